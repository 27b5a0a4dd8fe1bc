using System.Diagnostics;
using Exchange.V1;

namespace Exchange.Benchmarks.Unary;

/// <summary>
/// Catalog calls as a plain client sees them (<see cref="PlainClient"/>), against a bare grpc-dotnet
/// unary call in the same run, each server in its own process on loopback, calls kept in flight;
/// then ListDatasets with each filter on a catalog of 100 datasets and again once it holds 100,000,
/// on a gateway that answers every read from the database (the growth measures the database, not
/// the read cache). The gateway runs as the README starts it (Development, default logging), see <see cref="Catalog"/>.
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- unary [--rounds 5] [--seconds 3] [--in-flight 32] [--catalog 100000] [--warm-up 8]
/// With --only get (or list, or ping) it runs that call alone for the rounds and stops: a steady load to profile.
/// </summary>
internal static class UnaryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = (int)Harness.Option(args, "--rounds", 5);
        var duration = TimeSpan.FromSeconds(Harness.Option(args, "--seconds", 3));
        var inFlight = (int)Harness.Option(args, "--in-flight", 32);
        var catalog = (int)Harness.Option(args, "--catalog", 100_000);
        var warmUp = TimeSpan.FromSeconds(Harness.Option(args, "--warm-up", 8));
        var certs = Path.Combine(Harness.RepositoryRoot(), "certs-dev");
        var barePort = Harness.FreePort();
        using var bare = Harness.StartBare(barePort, certs);
        try
        {
            using var bareClient = PlainClient.Connect(barePort, certs, token: null);
            var ping = new BareUnaryService.BareUnaryServiceClient(bareClient.Channel);
            Console.WriteLine($"// {rounds} rounds of {duration.TotalSeconds} s per call, {inFlight} calls in flight, one plain client per side, TLS on loopback, {Environment.ProcessorCount} cores");

            // The gateway as it runs: repeated catalog reads answered from memory until the next write.
            double bareMedian;
            List<double> bareRuns = [], getRuns = [], listRuns = [];
            await using (var gateway = await Catalog.StartAsync(certs, inFlight))
            {
                await Harness.WaitUntilUpAsync(() => ping.PingAsync(new PingRequest()).ResponseAsync);
                var get = new GetDatasetRequest { Name = gateway.Listed };
                var list = new ListDatasetsRequest { PageSize = 10 };
                Func<Task> pingCall = () => ping.PingAsync(new PingRequest { Name = gateway.Listed }).ResponseAsync;
                Func<Task> getCall = () => gateway.InitechCatalog.GetDatasetAsync(get, gateway.Initech.Headers).ResponseAsync;
                Func<Task> listCall = () => gateway.AcmeCatalog.ListDatasetsAsync(list, gateway.Acme.Headers).ResponseAsync;
                if (Only(args) is { } only)
                {
                    var call = only switch
                    {
                        "ping" => pingCall,
                        "bare-list" => () => ping.ListAsync(new PingRequest { Name = gateway.Listed }).ResponseAsync,
                        "get" => getCall,
                        "list" => listCall,
                        _ => throw new ArgumentException($"--only takes ping, bare-list, get or list, not '{only}'."),
                    };
                    await RateAsync(warmUp, inFlight, call);
                    var runs = await RoundsAsync(rounds, duration, inFlight, call);
                    Console.WriteLine($"{only}: {Harness.Runs(runs, "N0")} calls/s");
                    return 0;
                }

                // Untimed warm-up, so tiered compilation has settled on both sides: here a call path takes
                // some 10,000 calls (several seconds) to reach its optimised code.
                foreach (var call in new[] { pingCall, getCall, listCall })
                {
                    await RateAsync(warmUp, inFlight, call);
                }

                for (var round = 0; round < rounds; round++)
                {
                    bareRuns.Add(await RateAsync(duration, inFlight, pingCall));
                    getRuns.Add(await RateAsync(duration, inFlight, getCall));
                    listRuns.Add(await RateAsync(duration, inFlight, listCall));
                }

                bareMedian = Harness.Median(bareRuns);
            }

            // The database's own cost as the catalog grows: every read queries it (Exchange:Database:CacheReads=false).
            await using (var gateway = await Catalog.StartAsync(certs, inFlight, "--Exchange:Database:CacheReads=false"))
            {
                var filters = new (string Name, ListDatasetsRequest Request)[]
                {
                    ("no filter", new ListDatasetsRequest { PageSize = 10 }),
                    ("tag (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Tag = "rare" }),
                    ("provider (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Provider = "globex" }),
                    ("query (1 in 100 match)", new ListDatasetsRequest { PageSize = 10, Query = "needle" }),
                };
                var small = new List<double>[filters.Length];
                var large = new List<double>[filters.Length];
                await RateAsync(warmUp, inFlight, () => gateway.AcmeCatalog.ListDatasetsAsync(filters[0].Request, gateway.Acme.Headers).ResponseAsync);
                for (var f = 0; f < filters.Length; f++)
                {
                    var request = filters[f].Request;
                    await RateAsync(warmUp / 4, inFlight, () => gateway.AcmeCatalog.ListDatasetsAsync(request, gateway.Acme.Headers).ResponseAsync);
                    small[f] = await RoundsAsync(rounds, duration, inFlight, () => gateway.AcmeCatalog.ListDatasetsAsync(request, gateway.Acme.Headers).ResponseAsync);
                }

                var seeding = Stopwatch.StartNew();
                await gateway.GrowAsync(from: 101, to: catalog, inFlight);
                Console.WriteLine($"// catalog grown to {catalog:N0} datasets in {seeding.Elapsed.TotalSeconds:0} s");
                for (var f = 0; f < filters.Length; f++)
                {
                    var request = filters[f].Request;
                    large[f] = await RoundsAsync(rounds, duration, inFlight, () => gateway.AcmeCatalog.ListDatasetsAsync(request, gateway.Acme.Headers).ResponseAsync);
                }

                for (var f = 0; f < filters.Length; f++)
                {
                    var (s, l) = (Harness.Median(small[f]), Harness.Median(large[f]));
                    Console.WriteLine($"ListDatasets uncached, {filters[f].Name}: {s:N0}/s on 100 datasets, {l:N0}/s on {catalog:N0}; " +
                        $"{s / l:0.00}x slower (goal <= 2) {(s / l <= 2 ? "MET" : "NOT MET")}");
                }
            }

            Report("GetDataset", bareMedian, getRuns, bareRuns);
            Report("ListDatasets (10 a page)", bareMedian, listRuns, bareRuns);
            return 0;
        }
        finally
        {
            Harness.Stop(bare);
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
        Console.WriteLine($"{what}: bare Ping {bare:N0}/s, gateway {g:N0}/s (medians; bare runs {Harness.Runs(bareRuns, "N0")}, " +
            $"gateway runs {Harness.Runs(gateway, "N0")}); ratio {ratio:0.00} (goal >= 0.5) {(ratio >= 0.5 ? "MET" : "NOT MET")}");
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
}
