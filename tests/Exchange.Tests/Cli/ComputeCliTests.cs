using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Compute;
using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Cli;

/// <summary>
/// The compute workflow as a new user runs it: a consumer asks for queries under a rule with a
/// privacy budget, the provider approves, the consumer's queries are answered with small groups
/// suppressed until the budget runs out, and an auditor recomputes the spend from the log.
/// </summary>
public sealed class ComputeCliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private readonly Participant _acme = Participant.Acme.Fresh();
    private readonly Participant _initech = Participant.Initech.Fresh();
    private string Trusted => Path.Combine(Gateway.DataDirectory, $"trusted-{_initech.Id}.json");

    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => Gateway.RunCliAsync(who, args);

    [Fact]
    public async Task A_consumer_queries_under_a_compute_grant_until_its_budget_runs_out_and_an_auditor_recomputes_the_spend()
    {
        using var acme = Gateway.As(_acme);
        var dataset = await ComputeFixture.PurchasesAsync(acme);

        var (exit, output, error) = await Run(_initech, "--json", "access", "request", dataset.Name, "--purpose", "research", "--compute",
            "--dimension", "city", "--aggregate", "amount=count,sum,avg:0..1000", "--identity", "person", "--min-identities", "10",
            "--epsilon", "0.25", "--budget", "0.5", "--delta-exponent", "8");
        Assert.True(exit == 0, error);
        var request = JsonDocument.Parse(output).RootElement.GetProperty("name").GetString()!;
        (exit, output, error) = await Run(_acme, "--json", "access", "approve", request);
        Assert.True(exit == 0, error);
        var grant = JsonDocument.Parse(output).RootElement.GetProperty("grant").GetProperty("name").GetString()!;

        (exit, output, error) = await Run(_initech, "grants", "get", grant);
        Assert.True(exit == 0, error);
        Assert.Contains("queries only", output, StringComparison.Ordinal);
        Assert.Contains("epsilon 0.25 a query of 0.5, delta 1e-8", output, StringComparison.Ordinal);
        Assert.Contains("0.5 of 0.5 epsilon left after 0 queries", output, StringComparison.Ordinal);

        const string Sql = "SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city";
        (exit, output, error) = await Run(_initech, "query", grant, Sql, "--trusted", Trusted);
        Assert.True(exit == 0, error);
        Assert.Contains("COUNT(*)", output, StringComparison.Ordinal);
        Assert.Contains("epsilon spent 0.25, remaining 0.25", output, StringComparison.Ordinal);
        Assert.Contains("(verified)", output, StringComparison.Ordinal);
        // Under differential privacy a group is released only when its noisy count of identities clears a threshold
        // far above this small table's groups; how many were left out is not told, since that would count the groups.
        Assert.Contains("0 rows; groups under the privacy threshold left out (how many is not told under differential privacy)", output, StringComparison.Ordinal);

        (exit, _, error) = await Run(_initech, "query", grant, Sql, "--trusted", Trusted);
        Assert.True(exit == 0, error);
        (exit, _, error) = await Run(_initech, "query", grant, Sql, "--trusted", Trusted);
        Assert.Equal(1, exit);
        Assert.Contains("FailedPrecondition", error, StringComparison.Ordinal);
        Assert.Contains("0 of epsilon remains", error, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Auditor, "compute", "budget", grant);
        Assert.True(exit == 0, error + output);
        Assert.Contains("OK: 1 budget recomputed from the log", output, StringComparison.Ordinal);
        Assert.Contains("0 left", output, StringComparison.Ordinal);

        (exit, output, error) = await Run(_acme, "compute", "add-budget", grant, "--epsilon", "0.25", "--reason", "renewed");
        Assert.True(exit == 0, error);
        Assert.Contains("0.25 of 0.75 epsilon left", output, StringComparison.Ordinal);
        (exit, _, error) = await Run(_initech, "query", grant, Sql, "--trusted", Trusted);
        Assert.True(exit == 0, error);

        (exit, output, error) = await Run(Participant.Auditor, "--json", "compute", "budget", grant);
        Assert.True(exit == 0, error + output);
        var account = JsonDocument.Parse(output).RootElement;
        Assert.Equal((750, 750, 0, 3, 1), (account.GetProperty("total_epsilon_millis").GetInt64(), account.GetProperty("spent_epsilon_millis").GetInt64(),
            account.GetProperty("remaining_epsilon_millis").GetInt64(), account.GetProperty("queries").GetInt64(), account.GetProperty("refused").GetInt64()));
    }

    [Fact]
    public async Task A_query_outside_the_rule_is_refused_naming_what_broke_it()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());

        var (exit, _, error) = await Run(_initech, "query", grant.Name, "SELECT COUNT(*) FROM read_csv('/etc/passwd')", "--trusted", Trusted);
        Assert.Equal(1, exit);
        Assert.Contains("InvalidArgument", error, StringComparison.Ordinal);
        Assert.Contains("'read_csv'", error, StringComparison.Ordinal);
    }
}
