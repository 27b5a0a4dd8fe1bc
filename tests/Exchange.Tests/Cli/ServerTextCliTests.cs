using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>
/// The CLI end to end against a gateway whose answers carry terminal control sequences, line
/// breaks and bidi overrides (put there by a proxy, so the test does not depend on what the
/// gateway itself accepts): every table, list and tail line shows them escaped.
/// </summary>
public sealed class ServerTextCliTests : IDisposable
{
    private readonly ExchangeFactory _factory = ExchangeFactory.With(("Exchange:Limits:MaxWatchDuration", "00:00:00.500"));

    public void Dispose() => _factory.Dispose();

    private Task<(int Exit, string Out, string Err)> Run(RewritingProxy proxy, Participant who, params string[] args) =>
        ExchangeFactory.RunCliAsync(proxy, ["--server", _factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(who.Id, who.Roles), .. args]);

    [Fact]
    public async Task Datasets_list_audit_list_and_audit_tail_print_hostile_server_strings_escaped()
    {
        using var acme = _factory.As(Participant.Acme);
        await CatalogFixture.CreateAsync(acme, DatasetState.Listed, title: "Tides");
        var proxy = new RewritingProxy(_factory.Server.CreateHandler())
            .On<ListDatasetsResponse>("exchange.v1.CatalogService/ListDatasets", r =>
            {
                foreach (var d in r.Datasets)
                {
                    d.Title = RenderTests.Hostile;
                    d.Tags.Add("[red]tag[/]");
                }
            })
            .On<ListAuditEventsResponse>("exchange.v1.AuditService/ListAuditEvents", r =>
            {
                foreach (var e in r.Events)
                {
                    e.Resource = RenderTests.Hostile;
                }
            })
            .On<WatchAuditEventsResponse>("exchange.v1.AuditService/WatchAuditEvents", r =>
            {
                r.Event.Actor = RenderTests.Hostile;
                r.Event.Action = RenderTests.Hostile;
                r.Event.Details.Add(new AuditDetail { Key = "note", Value = RenderTests.Hostile });
            });

        var (exit, output, error) = await Run(proxy, Participant.Initech, "datasets", "list");
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        Assert.Contains(RenderTests.Escaped, output);
        Assert.Contains("[red]tag[/]", output);

        (exit, output, error) = await Run(proxy, Participant.Initech, "--json", "datasets", "list");
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(RenderTests.Hostile, json.RootElement[0].GetProperty("title").GetString());
        }

        (exit, output, error) = await Run(proxy, Participant.Auditor, "audit", "list");
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        Assert.Contains(RenderTests.Escaped, output);

        (exit, output, error) = await Run(proxy, Participant.Auditor, "audit", "tail", "--from", "0");
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line =>
        {
            Assert.Contains($"{RenderTests.Escaped} {RenderTests.Escaped}", line);
            Assert.EndsWith($"note={RenderTests.Escaped}", line);
        });

        (exit, output, error) = await Run(proxy, Participant.Auditor, "--json", "audit", "tail", "--from", "0");
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        using (var json = JsonDocument.Parse(output.Split('\n')[0]))
        {
            Assert.Equal(RenderTests.Hostile, json.RootElement.GetProperty("actor").GetString());
        }
    }

    [Fact]
    public async Task An_error_detail_from_the_gateway_is_printed_escaped()
    {
        var (exit, output, error) = await _factory.RunCliAsync(Participant.Initech, "datasets", "get", "datasets/\u001b[2J\u202Ex");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error);
        RenderTests.AssertPrintable(error);
    }
}
