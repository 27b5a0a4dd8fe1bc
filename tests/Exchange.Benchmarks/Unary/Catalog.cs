using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Benchmarks.Unary;

/// <summary>
/// A gateway in its own process (<see cref="Harness.StartGateway"/>, the per-participant call rate
/// raised out of the way of a single caller but the limiter still counting every call), with a
/// plain client per participant, one listed dataset the consumer may get, and the first 100
/// datasets of the catalog.
/// </summary>
internal sealed class Catalog : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly string _data;

    private Catalog(System.Diagnostics.Process process, string data, int port, string certs)
    {
        _process = process;
        _data = data;
        Acme = PlainClient.Connect(port, certs, Harness.Token(certs, "acme", "provider"));
        Globex = PlainClient.Connect(port, certs, Harness.Token(certs, "globex", "provider"));
        Initech = PlainClient.Connect(port, certs, Harness.Token(certs, "initech", "consumer"));
        AcmeCatalog = new CatalogService.CatalogServiceClient(Acme.Channel);
        InitechCatalog = new CatalogService.CatalogServiceClient(Initech.Channel);
    }

    public PlainClient Acme { get; }

    public PlainClient Globex { get; }

    public PlainClient Initech { get; }

    public CatalogService.CatalogServiceClient AcmeCatalog { get; }

    public CatalogService.CatalogServiceClient InitechCatalog { get; }

    /// <summary>The name of the listed dataset the consumer may get.</summary>
    public string Listed { get; private set; } = "";

    public static async Task<Catalog> StartAsync(string certs, int inFlight, params string[] settings)
    {
        var port = Harness.FreePort();
        var data = Harness.WorkDirectory("gateway");
        var process = Harness.StartGateway(port, data,
            ["--Exchange:Limits:CallsPerSecond=100000000", "--Exchange:Limits:CallBurst=100000000", .. settings]);
        var gateway = new Catalog(process, data, port, certs);
        try
        {
            await Harness.WaitUntilUpAsync(() => gateway.AcmeCatalog.ListDatasetsAsync(new ListDatasetsRequest(), gateway.Acme.Headers).ResponseAsync);
            gateway.Listed = await gateway.ListedDatasetAsync();
            await gateway.GrowAsync(from: 1, to: 100, inFlight);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Datasets <paramref name="from"/>…<paramref name="to"/>: every 100th is globex's, tagged "rare",
    /// has "needle" in its title and is listed (so acme, who lists, sees it); the others are acme's
    /// drafts. Created as any provider would, in parallel.
    /// </summary>
    public async Task GrowAsync(int from, int to, int inFlight)
    {
        var globex = new CatalogService.CatalogServiceClient(Globex.Channel);
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
                var (client, owner) = rare ? (globex, Globex) : (AcmeCatalog, Acme);
                var created = (await client.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset }, owner.Headers)).Dataset;
                if (rare)
                {
                    await PublishAsync(owner, client, created.Name);
                }
            }
        }));
        await Task.WhenAll(creators);
    }

    public ValueTask DisposeAsync()
    {
        Acme.Dispose();
        Globex.Dispose();
        Initech.Dispose();
        Harness.Stop(_process);
        _process.Dispose();
        Harness.DeleteDirectory(_data);
        return ValueTask.CompletedTask;
    }

    /// <summary>A LISTED dataset with one revision, that the consumer may get.</summary>
    private async Task<string> ListedDatasetAsync()
    {
        var dataset = (await AcmeCatalog.CreateDatasetAsync(new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "benchmark dataset", Description = "the one the consumer gets", Classification = Classification.Internal, Tags = { "benchmark" } },
        }, Acme.Headers)).Dataset;
        await PublishAsync(Acme, AcmeCatalog, dataset.Name);
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
