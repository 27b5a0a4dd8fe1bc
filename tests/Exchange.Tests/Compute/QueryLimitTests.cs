using Exchange.Server.Compute;
using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Compute;

/// <summary>
/// What a replica gives one consumer's queries and its table loads: a few queries at once per
/// consumer, a few loads at once in all, and no load carried on for queries that have gone.
/// </summary>
public sealed class QueryLimitTests
{
    private const string Sql = "SELECT COUNT(*) FROM data";

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var waited = 0; !await condition(); waited += 20)
        {
            Assert.True(waited < 30_000, $"waited 30 s for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_consumer_with_four_queries_running_is_refused_a_fifth_as_resource_exhausted_logged_and_unspent()
    {
        var noise = new HeldNoise(queries: 4);
        using var factory = new ExchangeFactory { TestServices = services => services.AddSingleton<INoiseSource>(noise) };
        factory.ExpectErrors(e => e.Is("Exchange.Server.Hosting.UnhandledExceptionInterceptor", 1));
        using var acme = factory.ClientFor(Participant.Acme);
        using var initech = factory.ClientFor(Participant.Initech);
        using var umbrella = factory.ClientFor(Participant.Umbrella);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var rule = ComputeFixture.Rule(new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 });
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, rule);
        var other = await ComputeFixture.ComputeGrantAsync(acme, umbrella, dataset, rule);

        var running = Enumerable.Range(0, 4).Select(_ => initech.QueryAsync(grant.Name, Sql)).ToList();
        await noise.Held.WaitAsync(TimeSpan.FromSeconds(30));
        var refused = await Rpc.FailsWith(StatusCode.ResourceExhausted, initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = Sql }));
        Assert.Contains("already has 4 queries running", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("ask again when one has answered", refused.Status.Detail, StringComparison.Ordinal);
        // Another consumer is not held up by it.
        Assert.Equal(900, (await umbrella.QueryAsync(other.Name, Sql)).EpsilonRemainingMillis);

        noise.Release();
        foreach (var query in running)
        {
            Assert.Equal(StatusCode.Internal, (await Assert.ThrowsAsync<RpcException>(() => query)).StatusCode);
        }

        // Refused before admission: logged as a refused query, and nothing spent on it.
        using var auditor = factory.ClientFor(Participant.Auditor);
        var denied = Assert.Single((await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "compute.query" })).Events,
            e => e.Outcome == AuditOutcome.Denied);
        Assert.Equal(grant.Name, denied.Resource);
        Assert.Contains("already has 4 queries running", denied.Details.Single(d => d.Key == "reason").Value, StringComparison.Ordinal);
        Assert.Equal(400, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.ComputeBudget.SpentEpsilonMillis);

        // Once they have ended, it may query again.
        Assert.Equal(500, (await initech.QueryAsync(grant.Name, Sql)).EpsilonRemainingMillis);
    }

    [Fact]
    public async Task A_table_load_stops_when_every_query_waiting_for_it_has_gone_and_at_most_two_load_at_once()
    {
        using var factory = new ExchangeFactory { TestServices = GatedBlobStore.Replace };
        using var acme = factory.ClientFor(Participant.Acme);
        using var initech = factory.ClientFor(Participant.Initech);
        using var auditor = factory.ClientFor(Participant.Auditor);
        var grants = new List<Grant>();
        for (var i = 0; i < 3; i++)
        {
            grants.Add(await ComputeFixture.ComputeGrantAsync(acme, initech, await ComputeFixture.PurchasesAsync(acme), ComputeFixture.Rule()));
        }

        var blobs = (GatedBlobStore)factory.Services.GetRequiredService<IBlobStore>();
        var before = blobs.Reads;
        blobs.Close();
        using (var going = new CancellationTokenSource())
        {
            var abandoned = initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grants[0].Name, Sql = Sql }, cancellationToken: going.Token).ResponseAsync;
            await UntilAsync(() => Task.FromResult(blobs.Waiting == 1), "the load to begin");
            await going.CancelAsync();
            Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => abandoned)).StatusCode);
            // Logged once the query has let go of the table, which is when its load is told to stop.
            await UntilAsync(async () => (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = grants[0].Dataset, Action = "compute.query" }))
                .Events.Any(e => e.Outcome == AuditOutcome.Failed), "the abandoned query to be logged");
        }

        // A read under way is not interrupted; the load stops once it returns.
        blobs.Open();
        await UntilAsync(() => Task.FromResult(blobs.Waiting == 0), "the abandoned load's read");
        blobs.Close();

        // Three tables wanted at once: two load, the third waits its turn before it reads anything.
        var queries = grants.Select(g => initech.QueryAsync(g.Name, Sql)).ToList();
        var engine = factory.Services.GetRequiredService<Exchange.Server.Compute.ComputeEngine>();
        await UntilAsync(() => Task.FromResult(blobs.Waiting == 2 && engine.LoadsWaitingForTurn == 1), "two loads, and the third waiting its turn");
        Assert.Equal(3, blobs.Reads - before);
        blobs.Open();
        Assert.All(await Task.WhenAll(queries), answer => Assert.Equal(["50"], ComputeFixture.Lines(answer)));
        // The abandoned load was stopped and forgotten, not finished for no one: its table was read again.
        Assert.Equal(4, blobs.Reads - before);
    }
}
