using System.Globalization;
using Exchange.Server.Compute;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Compute;

/// <summary>
/// Differential privacy's budget, spent in the log: queries spend it until it runs out, it never
/// refreshes by itself, the provider may add to it, concurrent queries cannot overspend it, and an
/// auditor adds it all up from the log alone.
/// </summary>
public sealed class PrivacyBudgetTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly DifferentialPrivacy Privacy = new() { QueryEpsilonMillis = 250, BudgetEpsilonMillis = 1000 };

    private static ComputeBudget BudgetOf(Grant grant) => grant.ComputeBudget;

    private static long Long(AuditEvent e, string key) =>
        long.Parse(e.Details.Single(d => d.Key == key).Value, CultureInfo.InvariantCulture);

    /// <summary>What an auditor recomputes from the log alone: the rule's budget at approval, plus what was added, minus what admitted queries spent.</summary>
    private async Task<(long Total, long Spent)> FromTheLogAsync(string dataset, string grant)
    {
        using var auditor = Gateway.ClientFor(Participant.Auditor);
        var events = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset, PageSize = 1000 })).Events;
        var approval = events.Single(e => e.Action == "access.approve" && e.Details.Any(d => d.Key == "grant" && d.Value == grant));
        var added = events.Where(e => e.Action == "compute.budget" && e.Resource == grant && e.Outcome == AuditOutcome.Success).Sum(e => Long(e, "epsilon_millis"));
        var spent = events.Where(e => e.Action == "compute.admit" && e.Resource == grant && e.Outcome == AuditOutcome.Success).Sum(e => Long(e, "epsilon_millis"));
        return (Long(approval, "budget_epsilon_millis") + added, spent);
    }

    [Fact]
    public async Task The_budget_runs_out_after_the_allowed_queries_refreshes_only_when_the_provider_adds_to_it_and_the_log_accounts_for_it()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule(Privacy));
        const string Sql = "SELECT city, COUNT(*), SUM(amount) FROM data GROUP BY city";

        for (var i = 1; i <= 4; i++)
        {
            var answer = await initech.QueryAsync(grant.Name, Sql);
            Assert.Equal((250L, 1000L - (250 * i)), (answer.EpsilonSpentMillis, answer.EpsilonRemainingMillis));
            // The receipt names the event that spent the epsilon, on admission.
            Assert.True(long.Parse(answer.Receipt.Event.Details.Single(d => d.Key == "admission").Value, CultureInfo.InvariantCulture) < answer.Receipt.Event.Index);
        }

        var exhausted = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, Sql));
        Assert.Equal(StatusCode.FailedPrecondition, exhausted.StatusCode);
        Assert.Contains("0 of epsilon remains", exhausted.Status.Detail, StringComparison.Ordinal);
        // Refused again later: nothing refreshes it.
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, Sql))).StatusCode);

        var shown = BudgetOf((await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant);
        Assert.Equal((1000L, 1000L, 0L, 4L), (shown.TotalEpsilonMillis, shown.SpentEpsilonMillis, shown.RemainingEpsilonMillis, shown.Queries));

        // Only the provider adds budget, and says why.
        var denied = await Assert.ThrowsAsync<RpcException>(() =>
            initech.Compute.AddQueryBudgetAsync(new AddQueryBudgetRequest { Grant = grant.Name, EpsilonMillis = 250, Reason = "more" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        var added = await acme.Compute.AddQueryBudgetAsync(new AddQueryBudgetRequest { Grant = grant.Name, EpsilonMillis = 250, Reason = "renewed for Q2" });
        Assert.Equal((1250L, 250L), (added.Budget.TotalEpsilonMillis, added.Budget.RemainingEpsilonMillis));

        Assert.Equal(0, (await initech.QueryAsync(grant.Name, Sql)).EpsilonRemainingMillis);
        Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, Sql))).StatusCode);

        Assert.Equal((1250L, 1250L), await FromTheLogAsync(dataset.Name, grant.Name));
    }

    /// <summary>A gateway that lets a consumer run twenty queries at once.</summary>
    private sealed class TwentyAtOnce() : ExchangeFactory(("Exchange:Compute:QueriesPerConsumer", "20"));

    [Fact]
    public async Task Twenty_concurrent_queries_cannot_overspend_the_budget()
    {
        // All twenty running at once: a consumer's usual limit of queries at once would refuse most before admission.
        using var gateway = new TwentyAtOnce();
        using var acme = gateway.ClientFor(Participant.Acme);
        using var initech = gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 };
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule(privacy));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                await initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data");
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }));

        Assert.Equal(10, outcomes.Count(o => o == StatusCode.OK));
        Assert.Equal(10, outcomes.Count(o => o == StatusCode.FailedPrecondition));
        var shown = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.ComputeBudget;
        Assert.Equal((1000L, 0L, 10L), (shown.SpentEpsilonMillis, shown.RemainingEpsilonMillis, shown.Queries));
        using var auditor = gateway.ClientFor(Participant.Auditor);
        var recomputed = (await auditor.RecomputeBudgetsAsync(dataset.Name))[grant.Name];
        Assert.Equal((1000L, 1000L, 10L), (recomputed.TotalMillis, recomputed.SpentMillis, recomputed.Queries));
    }

    [Fact]
    public async Task A_query_that_fails_after_admission_has_spent_its_epsilon_even_when_concurrent_queries_use_up_the_rest()
    {
        var noise = new HeldNoise();
        using var factory = new ExchangeFactory { TestServices = services => services.AddSingleton<INoiseSource>(noise) };
        factory.ExpectErrors(e => e.Is("Exchange.Server.Hosting.UnhandledExceptionInterceptor", 1));
        using var acme = factory.ClientFor(Participant.Acme);
        using var initech = factory.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset,
            ComputeFixture.Rule(new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 200 }));
        const string Sql = "SELECT COUNT(*) FROM data";

        // The attacker's query is admitted and running; meanwhile it asks more of the same grant.
        var held = initech.QueryAsync(grant.Name, Sql);
        await noise.Held.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await initech.QueryAsync(grant.Name, Sql)).EpsilonRemainingMillis);
        var refused = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, Sql));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);

        // Now the held query fails: had it been free, failing would tell one bit of the data at no cost.
        noise.Release();
        Assert.Equal(StatusCode.Internal, (await Assert.ThrowsAsync<RpcException>(() => held)).StatusCode);

        var shown = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.ComputeBudget;
        Assert.Equal((200L, 0L, 1L), (shown.SpentEpsilonMillis, shown.RemainingEpsilonMillis, shown.Queries));
        using var auditor = factory.ClientFor(Participant.Auditor);
        var recomputed = (await auditor.RecomputeBudgetsAsync(dataset.Name))[grant.Name];
        Assert.Equal((200L, 0L, 1L, 2L), (recomputed.SpentMillis, recomputed.RemainingMillis, recomputed.Queries, recomputed.Refused));
    }

    [Fact]
    public async Task Adding_budget_to_a_revoked_grant_is_refused_and_logged_as_a_denial_that_adds_nothing()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule(Privacy));
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "contract ended" });

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            acme.Compute.AddQueryBudgetAsync(new AddQueryBudgetRequest { Grant = grant.Name, EpsilonMillis = 500, Reason = "one more quarter" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("revoked", refused.Status.Detail, StringComparison.Ordinal);

        // The consumer, whose budget it is, sees the attempt in its share of the log; the budget is unchanged.
        var logged = Assert.Single((await initech.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "compute.budget" })).Events);
        Assert.Equal((AuditOutcome.Denied, "acme", grant.Name, "500"), (logged.Outcome, logged.Actor, logged.Resource, logged.Details.Single(d => d.Key == "epsilon_millis").Value));
        Assert.Contains("revoked", logged.Details.Single(d => d.Key == "reason").Value, StringComparison.Ordinal);
        Assert.Equal((1000L, 0L), await FromTheLogAsync(dataset.Name, grant.Name));
        Assert.Equal(1000L, BudgetOf((await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant).TotalEpsilonMillis);
    }

    [Fact]
    public async Task ListGrants_shows_each_grant_s_budget_as_GetGrant_does()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var spent = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule(Privacy));
        var untouched = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule(Privacy));
        var exact = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        await initech.QueryAsync(spent.Name, "SELECT COUNT(*) FROM data");
        await acme.Compute.AddQueryBudgetAsync(new AddQueryBudgetRequest { Grant = spent.Name, EpsilonMillis = 500, Reason = "renewed" });

        var listed = (await initech.Access.ListGrantsAsync(new ListGrantsRequest { Dataset = dataset.Name })).Grants.ToDictionary(g => g.Name);
        Assert.Equal(3, listed.Count);
        foreach (var name in new[] { spent.Name, untouched.Name, exact.Name })
        {
            Assert.Equal((await initech.Access.GetGrantAsync(new GetGrantRequest { Name = name })).Grant.ComputeBudget, listed[name].ComputeBudget);
        }

        Assert.Equal((1500L, 250L, 1L), (listed[spent.Name].ComputeBudget.TotalEpsilonMillis, listed[spent.Name].ComputeBudget.SpentEpsilonMillis, listed[spent.Name].ComputeBudget.Queries));
        Assert.Equal(1000L, listed[untouched.Name].ComputeBudget.RemainingEpsilonMillis);
        Assert.Null(listed[exact.Name].ComputeBudget);
    }
}
