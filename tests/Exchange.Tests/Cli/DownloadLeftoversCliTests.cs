using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Exchange.Cli;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Cli;

/// <summary>
/// A download leaves nothing behind that can never resume, says so when it removes something, and
/// on Ctrl+C says how far it came and how to go on; the gateway logs a consumer's cancel as a cancel.
/// </summary>
public sealed class DownloadLeftoversCliTests : IDisposable
{
    private const int Chunk = 65536;
    private readonly CapturedLogs _logs = new();
    private readonly ExchangeFactory _factory;

    public DownloadLeftoversCliTests()
    {
        _factory = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", Chunk.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        _factory.Logs = _logs;
    }

    public void Dispose() => _factory.Dispose();

    private string Trusted => Path.Combine(_factory.DataDirectory, "trusted.json");

    private string PathFor(string name) => Path.Combine(_factory.DataDirectory, name);

    private async Task<(Grant Grant, byte[] Content)> SharedAsync(int chunks)
    {
        var content = RandomNumberGenerator.GetBytes(chunks * Chunk);
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme);
        await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        Directory.CreateDirectory(_factory.DataDirectory);
        return (await acme.ApproveAsync(await initech.RequestAsync(dataset)), content);
    }

    private async Task<(int Exit, string Out, string Err)> Download(string grant, string file, HttpMessageHandler? handler = null,
        string purpose = "research", CancellationToken cancellationToken = default)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliApp.RunAsync(
        [
            "--server", _factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles),
            "download", grant, "--purpose", purpose, "-o", PathFor(file), "--trusted", Trusted,
        ], output, error, handler ?? _factory.Server.CreateHandler(), cancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    private void AssertNothingLeft(string file)
    {
        Assert.False(File.Exists(PathFor(file)));
        Assert.False(File.Exists(PathFor(file + ".partial")), "a .partial was left behind");
        Assert.False(File.Exists(PathFor(file + ".partial.json")), "a .partial.json was left behind");
    }

    [Fact]
    public async Task A_download_refused_before_any_byte_leaves_no_partial_files()
    {
        var (grant, _) = await SharedAsync(2);

        var (exit, _, error) = await Download(grant.Name, "wrong-purpose.bin", purpose: "marketing");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: PermissionDenied:", error);
        AssertNothingLeft("wrong-purpose.bin");

        (exit, _, error) = await Download("grants/0000000000000000000000", "no-grant.bin");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: NotFound:", error);
        AssertNothingLeft("no-grant.bin");

        using var acme = _factory.As(Participant.Acme);
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "ended" });
        (exit, _, error) = await Download(grant.Name, "revoked.bin");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", error);
        AssertNothingLeft("revoked.bin");
    }

    [Fact]
    public async Task A_download_stopped_by_revocation_removes_its_partial_file_and_says_it_can_never_resume()
    {
        var (grant, _) = await SharedAsync(64);
        var tap = new StreamTap(_factory.Server.CreateHandler(), "exchange.v1.TransferService/Download", 4 * Chunk, async () =>
        {
            using var acme = _factory.As(Participant.Acme);
            await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "contract ended" });
        });

        var (exit, output, error) = await Download(grant.Name, "copy.bin", tap);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: PermissionDenied:", error);
        Assert.Contains("grant revoked: the partial file was removed; it can never resume", error);
        AssertNothingLeft("copy.bin");
    }

    [Fact]
    public async Task Ctrl_c_says_how_far_the_download_came_exits_130_and_the_same_command_resumes()
    {
        var (grant, content) = await SharedAsync(16);
        var meters = _factory.Services.GetRequiredService<IMeterFactory>();
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "exchange.transfer.duration" && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcomes.Enqueue((string)tag.Value!);
                }
            }
        });
        listener.Start();
        using var interrupt = new CancellationTokenSource();
        var tap = new StreamTap(_factory.Server.CreateHandler(), "exchange.v1.TransferService/Download", 6 * Chunk, () =>
        {
            interrupt.Cancel();
            return Task.CompletedTask;
        });

        var (exit, output, error) = await Download(grant.Name, "copy.bin", tap, cancellationToken: interrupt.Token);

        Assert.True(exit == CliApp.InterruptedExitCode, error);
        Assert.Equal(130, exit);
        Assert.Equal("", output);
        Assert.Matches(@"^interrupted at [\d,]+ of 1,048,576 bytes; run the same command again to resume\.\s*$", error);
        Assert.True(File.Exists(PathFor("copy.bin.partial")));

        // The gateway records the stream's end a moment after the consumer left; a resume before that is refused.
        using var state = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(PathFor("copy.bin.partial.json")));
        using (var initech = _factory.As(Participant.Initech))
        {
            var stopped = await initech.WaitForTransferAsync(state.RootElement.GetProperty("Transfer").GetString()!, TransferState.Failed);
            Assert.Equal("cancelled by the consumer", stopped.FailureReason);
        }

        (exit, output, error) = await Download(grant.Name, "copy.bin");
        Assert.True(exit == 0, error);
        Assert.Contains("(resumed)", output);
        Assert.Equal(content, await File.ReadAllBytesAsync(PathFor("copy.bin")));

        // The gateway logged the cancel as a cancel, not as a failure.
        Assert.Single(_logs.Lines, l => l.Contains("cancelled by the consumer after", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("stopped after", StringComparison.Ordinal));
        Assert.Contains("cancelled", outcomes);
        Assert.DoesNotContain("failed", outcomes);
    }
}
