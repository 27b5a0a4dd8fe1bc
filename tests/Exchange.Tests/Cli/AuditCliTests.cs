using System.Text.Json;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Cli;

/// <summary><c>exchange audit list</c> and <c>export</c> against an in-process gateway.</summary>
public sealed class AuditCliTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private Task<(int Exit, string Out, string Err)> Run(params string[] args) => _factory.RunCliAsync(Participant.Auditor, args);

    [Fact]
    public async Task List_and_export_show_every_event_as_table_jsonl_and_spreadsheet_safe_csv()
    {
        using var acme = _factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, title: "=HYPERLINK(\"http://evil\")");

        var (exit, output, error) = await Run("audit", "list", "--action", "dataset.publish");
        Assert.True(exit == 0, error);
        Assert.Contains("dataset.publish", output);
        Assert.DoesNotContain("dataset.create", output);
        Assert.Contains("1 event", output);

        (exit, output, error) = await Run("audit", "export", "--format", "jsonl");
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal("dataset.create", first.RootElement.GetProperty("action").GetString());
            var leaf = Convert.FromBase64String(first.RootElement.GetProperty("leaf").GetString()!);
            Assert.Equal(dataset.Name, AuditRecord.Parser.ParseFrom(leaf).Resource);
        }

        var file = Path.Combine(_factory.DataDirectory, "audit.csv");
        (exit, _, error) = await Run("audit", "export", "--format", "csv", "--output", file);
        Assert.True(exit == 0, error);
        Assert.Contains("exported 3 events", error);
        var csv = await File.ReadAllLinesAsync(file);
        Assert.Equal("index,time,actor,action,resource,dataset,subject,outcome,details,leaf_base64", csv[0]);
        Assert.Equal(4, csv.Length);
        Assert.StartsWith("0,", csv[1]);
        // The title travels inside the JSON details cell, quoted, and never as a bare formula.
        Assert.DoesNotContain(",=HYPERLINK", csv[1]);
    }

    [Fact]
    public async Task Verify_refuses_a_caller_who_cannot_read_the_whole_log()
    {
        using var acme = _factory.As(Participant.Acme);
        await CatalogFixture.CreateAsync(acme);
        using var globex = _factory.As(Participant.Globex);
        await CatalogFixture.CreateAsync(globex);
        using var auditor = _factory.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync(2);

        var (exit, _, error) = await _factory.RunCliAsync(Participant.Globex, "audit", "verify", "--trusted",
            Path.Combine(_factory.DataDirectory, "trusted.json"));

        Assert.Equal(1, exit);
        Assert.Contains("auditor", error);
    }

    [Fact]
    public async Task A_watch_ends_after_its_maximum_duration_and_tail_says_where_to_continue()
    {
        using var factory = ExchangeFactory.With(("Exchange:Limits:MaxWatchDuration", "00:00:00.500"));
        using var acme = factory.As(Participant.Acme);
        await CatalogFixture.CreateAsync(acme);
        await CatalogFixture.CreateAsync(acme);

        // The stream ends by itself, cleanly, after every event so far.
        using var auditor = factory.As(Participant.Auditor);
        var started = DateTime.UtcNow;
        using var watch = auditor.Audit.WatchAuditEvents(new WatchAuditEventsRequest());
        var seen = new List<long>();
        await foreach (var response in watch.ResponseStream.ReadAllAsync())
        {
            seen.Add(response.Event.Index);
        }

        Assert.Equal([0L, 1L], seen);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(10));

        var (exit, output, error) = await factory.RunCliAsync(Participant.Auditor, "audit", "tail", "--from", "1");
        Assert.Equal(0, exit);
        Assert.Contains("dataset.create", output);
        Assert.Contains("continue with: exchange audit tail --from 2", error);
    }
}
