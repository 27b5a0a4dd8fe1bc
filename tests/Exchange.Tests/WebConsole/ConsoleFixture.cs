using System.Text;
using Exchange.Client;
using Exchange.Tests.Audit;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Microsoft.Playwright;

namespace Exchange.Tests.WebConsole;

/// <summary>
/// The real gateway binary on a real port, serving the console, with a small market in it (two
/// datasets of acme's; initech's pending request and its grant with one completed download;
/// umbrella's grant), and headless Chromium driven by Playwright. Nothing starts without Chromium.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private IPlaywright? _playwright;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "exchange-console", Guid.NewGuid().ToString("N"));

    internal GatewayProcess? Gateway { get; private set; }

    public IBrowser? Browser { get; private set; }

    /// <summary>The log's verifier key, as its operator publishes it.</summary>
    public string VerifierKey { get; private set; } = "";

    /// <summary>initech's request (purposes research and teaching, 10 transfers), pending.</summary>
    public string PendingRequest { get; private set; } = "";

    public string InitechGrant { get; private set; } = "";

    public string UmbrellaGrant { get; private set; } = "";

    public string InitechTransfer { get; private set; } = "";

    public string GatewayLog
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        if (Chromium.Find() is not { } chromium)
        {
            return;
        }

        Gateway = await StartGatewayAsync(DataDirectory, line =>
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        });
        await SeedAsync(Gateway);
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchAsync(_playwright, chromium);
    }

    internal static async Task<GatewayProcess> StartGatewayAsync(string dataDirectory, Action<string> log)
    {
        var gateway = new GatewayProcess(dataDirectory, log);
        await gateway.StartAsync();
        return gateway;
    }

    internal static Task<IBrowser> LaunchAsync(IPlaywright playwright, string chromium) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root (as CI runs) cannot use Chromium's sandbox.
            Args = ["--no-sandbox"],
        });

    private async Task SeedAsync(GatewayProcess gateway)
    {
        using var acme = gateway.Client(Participant.Acme);
        using var initech = gateway.Client(Participant.Initech);
        using var umbrella = gateway.Client(Participant.Umbrella);
        using var auditor = gateway.Client(Participant.Auditor);

        var weather = await PublishedDatasetAsync(acme, "Weather stations 2025", "weather", "station,hour,celsius\nbergen,0,4.5\noslo,0,2.0\n");
        var ports = await PublishedDatasetAsync(acme, "Port calls", "shipping", "port,ship,arrival\nbergen,Nordlys,2025-01-02\n");

        PendingRequest = (await initech.RequestAccessAsync(weather.Name, new AccessRequestOptions
        {
            Purpose = "research",
            Terms = new Terms { Purposes = { "research", "teaching" }, MaxTransfers = 10 },
        })).Name;

        var initechRequest = await initech.RequestAccessAsync(ports.Name, new AccessRequestOptions { Purpose = "research", Terms = new Terms { Purposes = { "research" } } });
        InitechGrant = (await acme.ApproveAccessRequestAsync(initechRequest.Name)).Name;
        var umbrellaRequest = await umbrella.RequestAccessAsync(ports.Name, new AccessRequestOptions { Purpose = "analytics", Terms = new Terms { Purposes = { "analytics" } } });
        UmbrellaGrant = (await acme.ApproveAccessRequestAsync(umbrellaRequest.Name)).Name;

        var file = Path.Combine(DataDirectory, "download.csv");
        var result = await initech.DownloadToFileAsync(InitechGrant, file, new Exchange.Client.Transfers.DownloadOptions { Purpose = "research" });
        InitechTransfer = result.Transfer;

        // A denial, so the charts have one: a consumer may not create datasets.
        try
        {
            await umbrella.CreateDatasetAsync(new Dataset { Title = "Not a provider", Classification = Classification.Public });
        }
        catch (Grpc.Core.RpcException)
        {
        }

        var events = await auditor.AllEventsAsync();
        await auditor.CheckpointCoveringAsync(events.Count);
        VerifierKey = (await auditor.PublishedLogKeyAsync()).Encoded;
    }

    private static async Task<Dataset> PublishedDatasetAsync(ExchangeClient provider, string title, string tag, string csv)
    {
        var dataset = await provider.CreateDatasetAsync(new Dataset
        {
            Title = title,
            Description = $"{title}, for the console's tests",
            Classification = Classification.Public,
            Tags = { tag },
        });
        await provider.UploadAsync(dataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(csv)), new Exchange.Client.Transfers.UploadOptions { MediaType = "text/csv" });
        return await provider.PublishDatasetAsync(dataset.Name);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
