using System.Diagnostics;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Benchmarks.Unary;

/// <summary>
/// Catalog calls as a plain client sees them (<see cref="PlainClient"/>), against a bare grpc-dotnet
/// unary call in the same run, each server in its own process on loopback, calls kept in flight;
/// then ListDatasets with each filter on a catalog of 100 datasets and again once it holds 100,000.
/// The gateway runs as the README starts it (Development, default logging), with the per-participant
/// call rate raised out of the way of a single caller but the limiter still counting every call.
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- unary [--rounds 5] [--seconds 3] [--in-flight 32] [--catalog 100000] [--warm-up 8]
/// With --only get (or list, or ping) it runs that call alone for the rounds and stops: a steady load to profile.
/// </summary>
internal static class UnaryBenchmark
{
    private const string Purpose = "benchmark";

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = (int)Harness.Option(args, "--rounds", 5);
        var seconds = Harness.Option(args, "--seconds", 3);
        var inFlight = (int)Harness.Option(args, "--in-flight", 32);
        var catalog = (int)Harness.Option(args, "--catalog", 100_000);
        var warmUp = TimeSpan.FromSeconds(Harness.Option(args, "--warm-up", 8));
        var certs = Path.Combine(Harness.RepositoryRoot(), "certs-dev");
        var data = Path.Combine(Path.GetTempPath(), "exchange-bench", $"gateway-{Guid.NewGuid():N}");
        var barePort = Harness.FreePort();
        var gatewayPort = Harness.FreePort();
        using var bare = Harness.StartBare(barePort, certs);
        using var gateway = Harness.StartGateway(gatewayPort, data,
            "--Exchange:Limits:CallsPerSecond=100000000", "--Exchange:Limits:CallBurst=100000000");
        try
        {
            using var bareClient = PlainClient.Connect(barePort, certs, token: null);
            using var acme = PlainClient.Connect(gatewayPort, certs, Harness.Token(certs, "acme", "provider"));
            using var globex = PlainClient.Connect(gatewayPort, certs, Harness.Token(certs, "globex", "provider"));
            using var initech = PlainClient.Connect(gatewayPort, certs, Harness.Token(certs, "initech", "consumer"));
            var ping = new BareUnaryService.BareUnaryServiceClient(bareClient.Channel);
            var acmeCatalog = new CatalogService.CatalogServiceClient(acme.Channel);
            var initechCatalog = new CatalogService.CatalogServiceClient(initech.Channel);
            await Harness.WaitUntilUpAsync(() => ping.PingAsync(new PingRequest()).ResponseAsync,
                () => acmeCatalog.ListDatasetsAsync(new ListDatasetsRequest(), acme.Headers).ResponseAsync);

            // One listed dataset the consumer gets, and the first 100 of the catalog.
            var listed = await ListedDatasetAsync(acme, acmeCatalog);
            await GrowAsync(acme, globex, from: 1, to: 100, inFlight);

            Console.WriteLine($"// {rounds} rounds of {seconds} s per call, {inFlight} calls in flight, one plain client per side, TLS on loopback, {Environment.ProcessorCount} cores");
            var get = new GetDatasetRequest { Name = listed };
            var list = new ListDatasetsRequest { PageSize = 10 };
            var bareRuns = new List<double>();
            var getRuns = new List<double>();
            var listRuns = new List<double>();
            var duration = TimeSpan.FromSeconds(seconds);
            if (Only(args) is { } only)
            {
                Func<Task> call = only switch
                {
                    "ping" => () => ping.PingAsync(new PingRequest { Name = listed }).ResponseAsync,
                    "bare-list" => () => ping.ListAsync(new PingRequest { Name = listed }).ResponseAsync,
                    "get" => () => initechCatalog.GetDatasetAsync(get, initech.Headers).ResponseAsync,
                    "list" => () => acmeCatalog.ListDatasetsAsync(list, acme.Headers).ResponseAsync,
                    _ => throw new ArgumentException($"--only takes ping, get or list, not '{only}'."),
                };
                await RateAsync(warmUp, inFlight, call);
                var runs = await RoundsAsync(rounds, duration, inFlight, call);
                Console.WriteLine($"{only}: {string.Join(" ", runs.Select(r => r.ToString("N0")))} calls/s");
                return 0;
            }

            // Untimed warm-up, so tiered compilation has settled on both sides: here a call path takes
            // some 10,000 calls (several seconds) to reach its optimised code.
            await RateAsync(warmUp, inFlight, () => ping.PingAsync(new PingRequest { Name = listed }).ResponseAsync);
            await RateAsync(warmUp, inFlight, () => initechCatalog.GetDatasetAsync(get, initech.Headers).ResponseAsync);
            await RateAsync(warmUp, inFlight, () => acmeCatalog.ListDatasetsAsync(list, acme.Headers).ResponseAsync);
            for (var round = 0; round < rounds; round++)
            {
                bareRuns.Add(await RateAsync(duration, inFlight, () => ping.PingAsync(new PingRequest { Name = listed }).ResponseAsync));
                getRuns.Add(await RateAsync(duration, inFlight, () => initechCatalog.GetDatasetAsync(get, initech.Headers).ResponseAsync));
                listRuns.Add(await RateAsync(duration, inFlight, () => acmeCatalog.ListDatasetsAsync(list, acme.Headers).ResponseAsync));
            }

            var filters = new (string Name, ListDatasetsRequest Request)[]
            {
                ("no filter", list),
                ("tag (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Tag = "rare" }),
                ("provider (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Provider = "globex" }),
                ("query (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Query = "needle" }),
            };
            var small = new List<double>[filters.Length];
            var large = new List<double>[filters.Length];
            for (var f = 0; f < filters.Length; f++)
            {
                var request = filters[f].Request;
                small[f] = await RoundsAsync(rounds, duration, inFlight, () => acmeCatalog.ListDatasetsAsync(request, acme.Headers).ResponseAsync);
            }

            var seeding = Stopwatch.StartNew();
            await GrowAsync(acme, globex, from: 101, to: catalog, inFlight);
            Console.WriteLine($"// catalog grown to {catalog:N0} datasets in {seeding.Elapsed.TotalSeconds:0} s");
            for (var f = 0; f < filters.Length; f++)
            {
                var request = filters[f].Request;
                large[f] = await RoundsAsync(rounds, duration, inFlight, () => acmeCatalog.ListDatasetsAsync(request, acme.Headers).ResponseAsync);
            }

            for (var f = 0; f < filters.Length; f++)
            {
                var (s, l) = (Harness.Median(small[f]), Harness.Median(large[f]));
                Console.WriteLine($"ListDatasets, {filters[f].Name}: {s:N0}/s on 100 datasets, {l:N0}/s on {catalog:N0}; " +
                    $"{s / l:0.00}x slower (goal <= 2) {(s / l <= 2 ? "MET" : "NOT MET")}");
            }

            var b = Harness.Median(bareRuns);
            Report("GetDataset", b, getRuns, bareRuns);
            Report("ListDatasets (10 a page)", b, listRuns, bareRuns);
            return 0;
        }
        finally
        {
            Harness.Stop(bare);
            Harness.Stop(gateway);
            Harness.DeleteDirectory(data);
        }
    }

    private static string? Only(string[] args)
    {
        var at = Array.IndexOf(args, "--only");
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static void Report(string what, double bare, List<double> gateway, List<double> bareRuns)
    {
        var g = Harness.Median(gateway);
        var ratio = g / bare;
        Console.WriteLine($"{what}: bare Ping {bare:N0}/s, gateway {g:N0}/s (medians; bare runs {string.Join(" ", bareRuns.Select(r => r.ToString("N0")))}, " +
            $"gateway runs {string.Join(" ", gateway.Select(r => r.ToString("N0")))}); ratio {ratio:0.00} (goal >= 0.5) {(ratio >= 0.5 ? "MET" : "NOT MET")}");
    }

    private static async Task<List<double>> RoundsAsync(int rounds, TimeSpan duration, int inFlight, Func<Task> call)
    {
        var runs = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            runs.Add(await RateAsync(duration, inFlight, call));
        }

        return runs;
    }

    /// <summary>Completed calls per second, with <paramref name="inFlight"/> callers each starting a new call as its last one ends.</summary>
    private static async Task<double> RateAsync(TimeSpan duration, int inFlight, Func<Task> call)
    {
        long completed = 0;
        var watch = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            while (watch.Elapsed < duration)
            {
                await call();
                Interlocked.Increment(ref completed);
            }
        }));
        await Task.WhenAll(callers);
        return completed / watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Datasets <paramref name="from"/>…<paramref name="to"/>: every 100th is globex's, tagged "rare",
    /// has "needle" in its title and is listed (so acme, who lists, sees it); the others are acme's
    /// drafts. Created as any provider would, in parallel.
    /// </summary>
    private static async Task GrowAsync(PlainClient acmeClient, PlainClient globexClient, int from, int to, int inFlight)
    {
        var (acme, acmeHeaders) = (new CatalogService.CatalogServiceClient(acmeClient.Channel), acmeClient.Headers);
        var (globex, globexHeaders) = (new CatalogService.CatalogServiceClient(globexClient.Channel), globexClient.Headers);
        var next = from - 1;
        var creators = Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            for (var n = Interlocked.Increment(ref next); n <= to; n = Interlocked.Increment(ref next))
            {
                var rare = n % 100 == 0;
                var dataset = new Dataset
                {
                    Title = rare ? $"needle dataset {n}" : $"benchmark dataset {n}",
                    Description = "a dataset of the benchmark's catalog",
                    Classification = Classification.Internal,
                    Tags = { rare ? "rare" : "common" },
                };
                var (client, headers) = rare ? (globex, globexHeaders) : (acme, acmeHeaders);
                var created = (await client.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset }, headers)).Dataset;
                if (rare)
                {
                    await PublishAsync(globexClient, globex, created.Name);
                }
            }
        }));
        await Task.WhenAll(creators);
    }

    /// <summary>A LISTED dataset with one revision, that the consumer may get.</summary>
    private static async Task<string> ListedDatasetAsync(PlainClient acme, CatalogService.CatalogServiceClient catalog)
    {
        var dataset = (await catalog.CreateDatasetAsync(new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "benchmark dataset", Description = "the one the consumer gets", Classification = Classification.Internal, Tags = { "benchmark" } },
        }, acme.Headers)).Dataset;
        await PublishAsync(acme, catalog, dataset.Name);
        return dataset.Name;
    }

    /// <summary>Uploads a small revision of the dataset and lists it.</summary>
    private static async Task PublishAsync(PlainClient provider, CatalogService.CatalogServiceClient catalog, string dataset)
    {
        var transfers = new TransferService.TransferServiceClient(provider.Channel);
        using (var upload = transfers.Upload(provider.Headers))
        {
            await upload.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset, MediaType = "text/csv" } });
            await upload.RequestStream.WriteAsync(new UploadRequest { Chunk = ByteString.CopyFromUtf8("a,b\n1,2\n") });
            await upload.RequestStream.CompleteAsync();
            await upload;
        }

        await catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset }, provider.Headers);
    }
}
