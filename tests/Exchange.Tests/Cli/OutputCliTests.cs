using System.Security.Cryptography;
using Exchange.Cli;
using Exchange.Cli.Commands;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Spectre.Console;

namespace Exchange.Tests.Cli;

/// <summary>
/// What the CLI prints: rates in a unit that fits, a progress bar only once the size is known, an audit table that fits, a tail that follows.
/// One gateway for the class; no test counts what another made.
/// </summary>
public sealed class OutputCliTests(OutputCliTests.SmallChunks gateway) : SharedGatewayTests<OutputCliTests.SmallChunks>(gateway)
{
    /// <summary>The class's gateway, with 64 KiB chunks: a download of a few hundred KiB draws its bar over several.</summary>
    public sealed class SmallChunks() : ExchangeFactory(("Exchange:Transfers:ChunkSize", "65536"));

    private string Token(Participant who) => ExchangeFactory.Token(who.Id, who.Roles);

    private async Task<(int Exit, string Out, string Err)> Run(CliApp app, StringWriter output, StringWriter error, string[] args,
        CancellationToken cancellationToken = default)
    {
        var exit = await app.InvokeAsync(["--server", Gateway.Server.BaseAddress.ToString(), .. args], cancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData(20, 1000, "20 B/s")]
    [InlineData(1500, 1000, "1.5 KB/s")]
    [InlineData(25_000_000, 10_000, "2.5 MB/s")]
    [InlineData(3_000_000_000, 1000, "3.0 GB/s")]
    [InlineData(20, 0, "20.0 KB/s")]
    public void Rates_use_a_unit_that_fits(long bytes, int milliseconds, string expected) =>
        Assert.Equal(expected, TransferCommands.Rate(bytes, TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public async Task A_tiny_upload_reports_a_rate_in_a_sensible_unit_and_a_download_bar_shows_the_size_once_known()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        Directory.CreateDirectory(Gateway.DataDirectory);
        var tiny = Path.Combine(Gateway.DataDirectory, "tiny.csv");
        await File.WriteAllTextAsync(tiny, "a,b\n1,2\n");

        var (exit, output, error) = await Gateway.RunCliAsync(Participant.Acme, "upload", dataset.Name, tiny, "--media-type", "text/csv");
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("0.0 MB/s", output);
        Assert.Matches(@"\(\d+(\.\d)? (B|KB|MB|GB)/s\)", output);

        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(8 * 65536)));
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        using var initech = Gateway.As(Participant.Initech);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        // A terminal's live bar, drawn where the test can read it.
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(screen),
        });
        console.Profile.Width = 160;
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var app = new CliApp(stdout, stderr, Gateway.Server.CreateHandler()) { ProgressConsole = console };
        (exit, _, error) = await Run(app, stdout, stderr,
        [
            "--token", Token(Participant.Initech), "download", grant.Name, "--purpose", "research",
            "-o", Path.Combine(Gateway.DataDirectory, "copy.bin"), "--trusted", Path.Combine(Gateway.DataDirectory, "trusted.json"),
        ]);
        Assert.True(exit == 0, error);
        var drawn = screen.ToString();
        Assert.Contains("download copy.bin", drawn);
        Assert.Contains("100%", drawn);
        Assert.DoesNotContain("/1 byte", drawn);
        Assert.DoesNotContain("0/1", drawn);
    }

    [Fact]
    public async Task Audit_list_fits_the_width_cutting_long_values_and_wide_shows_everything()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var reason = "superseded by the 2026 edition, which adds the northern stations and corrects the calibration of " +
            "the coastal sensors listed in the appendix";
        await acme.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = dataset.Name, Reason = reason });

        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (exit, output, error) = await Run(new CliApp(stdout, stderr, Gateway.Server.CreateHandler()) { Width = 100 }, stdout, stderr,
            ["--token", Token(Participant.Auditor), "audit", "list"]);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n');
        Assert.All(lines, line => Assert.True(line.TrimEnd('\r').Length <= 100, $"{line.Length} columns: {line}"));
        Assert.Contains("…", output);
        Assert.DoesNotContain(reason, output);
        Assert.Contains("dataset.delist", output);

        (stdout, stderr) = (new StringWriter(), new StringWriter());
        (exit, output, error) = await Run(new CliApp(stdout, stderr, Gateway.Server.CreateHandler()) { Width = 100 }, stdout, stderr,
            ["--token", Token(Participant.Auditor), "audit", "list", "--wide"]);
        Assert.True(exit == 0, error);
        Assert.Contains(reason, output);
    }

    [Fact]
    public async Task Audit_tail_follows_new_events_by_default_and_from_0_replays()
    {
        using var acme = Gateway.As(Participant.Acme);
        var before = await CatalogFixture.CreateAsync(acme, title: "Before the tail");

        var (tailed, tailError, exit) = await TailUntilAsync(["audit", "tail"],
            async () => (await CatalogFixture.CreateAsync(acme, title: "After the tail")).Name);
        Assert.Equal(0, exit);
        Assert.Contains("following new events from index", tailError);
        Assert.Contains("--from 0", tailError);
        Assert.DoesNotContain(before.Name, tailed);

        (tailed, _, exit) = await TailUntilAsync(["audit", "tail", "--from", "0"], () => Task.FromResult(before.Name));
        Assert.Equal(0, exit);
        Assert.Contains(before.Name, tailed);
    }

    /// <summary>Runs a tail as the auditor until its output names what <paramref name="then"/> returns, then stops it as Ctrl+C does.</summary>
    private async Task<(string Out, string Err, int Exit)> TailUntilAsync(string[] args, Func<Task<string>> then)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (syncOut, syncErr) = (TextWriter.Synchronized(output), TextWriter.Synchronized(error));
        using var stop = new CancellationTokenSource();
        var app = new CliApp(syncOut, syncErr, Gateway.Server.CreateHandler());
        var tail = app.InvokeAsync(["--server", Gateway.Server.BaseAddress.ToString(), "--token", Token(Participant.Auditor), .. args], stop.Token);

        string Read(TextWriter sync, StringWriter inner)
        {
            lock (sync)
            {
                return inner.ToString();
            }
        }

        // The default tail says where it starts before it watches.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (args.Length == 2 && !Read(syncErr, error).Contains("following", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !tail.IsCompleted)
        {
            await Task.Delay(20);
        }

        var wanted = await then();
        while (!Read(syncOut, output).Contains(wanted, StringComparison.Ordinal) && DateTime.UtcNow < deadline && !tail.IsCompleted)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        var exit = await tail;
        return (Read(syncOut, output), Read(syncErr, error), exit);
    }
}
