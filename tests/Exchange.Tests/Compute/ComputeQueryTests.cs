using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Tests.Compute;

/// <summary>
/// Aggregate queries under compute grants, end to end: answers with small groups suppressed and a
/// receipt for the logged result, attacks that isolate one person or escape the subset, and who may
/// query under which grant.
/// </summary>
public sealed class ComputeQueryTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static Dictionary<string, string> Details(AuditEvent e) => e.Details.ToDictionary(d => d.Key, d => d.Value);

    private async Task<List<AuditEvent>> QueryEventsAsync(string dataset)
    {
        using var auditor = Gateway.ClientFor(Participant.Auditor);
        return [.. (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset, Action = "compute.query", PageSize = 1000 })).Events];
    }

    [Fact]
    public async Task A_query_is_answered_with_small_groups_suppressed_and_a_receipt_for_its_logged_result()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        Assert.Equal(GrantKind.Compute, grant.Terms.Kind);

        var answer = await initech.QueryAsync(grant.Name, "select city, count(*), avg(amount) from data group by city");

        Assert.Equal(["city", "COUNT(*)", "AVG(amount)"], answer.Result.Columns);
        // Bergen: people 0-11, amounts 10n and 10n+1; Oslo: people 12-21. Tromsø's three people are under ten.
        Assert.Equal(["Bergen|24|55.5", "Oslo|20|165.5"], ComputeFixture.Lines(answer));
        Assert.Equal(1, answer.Result.SuppressedRows);
        Assert.Equal("SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city", answer.Query);
        Assert.Equal(dataset.LatestRevision, answer.Revision);
        Assert.Equal(SHA256.HashData(answer.Result.ToByteArray()), answer.ResultSha256.ToByteArray());

        var logged = answer.Receipt.Event;
        Assert.Equal(("compute.query", AuditOutcome.Success, grant.Name), (logged.Action, logged.Outcome, logged.Resource));
        var details = Details(logged);
        Assert.Equal(Convert.ToHexStringLower(answer.ResultSha256.ToByteArray()), details["result_sha256"]);
        Assert.Equal(answer.Query, details["query"]);
        Assert.Equal(("1", "2"), (details["suppressed_rows"], details["rows"]));
        // Without privacy nothing is spent, so nothing was admitted with a spend to point at.
        Assert.False(details.ContainsKey("epsilon_millis") || details.ContainsKey("admission"));
        Assert.Equal(64, details["rule_version"].Length);
        Assert.Equal(logged.Index, (await QueryEventsAsync(dataset.Name)).Single().Index);
        Assert.True(answer.Receipt.Checkpoint.Size > logged.Index);

        // A revision may be named; one of another dataset is not found, as a missing one would be.
        var named = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT COUNT(*) FROM data", Revision = dataset.LatestRevision });
        Assert.Equal(["50"], ComputeFixture.Lines(named));
        var other = await ComputeFixture.PurchasesAsync(acme);
        var elsewhere = await Assert.ThrowsAsync<RpcException>(() =>
            initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT COUNT(*) FROM data", Revision = other.LatestRevision }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, elsewhere.StatusCode);
        var refused = (await QueryEventsAsync(dataset.Name)).Last();
        Assert.Equal((AuditOutcome.Denied, "no revision " + other.LatestRevision + " of the grant's dataset"), (refused.Outcome, Details(refused)["reason"]));
    }

    [Fact]
    public async Task A_revision_without_the_rule_s_columns_a_view_beside_a_rule_and_an_oversized_structured_query_are_refused_with_what_to_do()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        var first = dataset.LatestRevision;

        // A later revision lost the amount column: the grant's rule does not fit it, which is no fault of the query.
        await acme.UploadAsync(dataset.Name, new MemoryStream("person,name,city\np1,Ann,Bergen\n"u8.ToArray()), new UploadOptions { MediaType = "text/csv" });
        var misfit = await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT COUNT(*) FROM data" }));
        Assert.Contains("does not fit the grant's analysis rule", misfit.Status.Detail);
        Assert.Contains("'amount'", misfit.Status.Detail);
        var earlier = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT COUNT(*) FROM data", Revision = first });
        Assert.Equal(["50"], ComputeFixture.Lines(earlier));

        // Queries do not apply a view, so terms may not carry both.
        var both = await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Access.RequestAccessAsync(new RequestAccessRequest
        {
            Dataset = dataset.Name,
            Purpose = "research",
            RequestedTerms = new Terms { Analysis = ComputeFixture.Rule(), View = new View { Columns = { "city" } } },
        }));
        Assert.Contains("a view and an analysis rule do not go together", both.Status.Detail);

        var wide = new StructuredQuery();
        wide.Outputs.Add(Enumerable.Range(0, 65).Select(_ => new StructuredQuery.Types.Output { Function = AggregateFunction.Count }));
        var oversized = await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Structured = wide, Revision = first }));
        Assert.Contains("at most 64 outputs", oversized.Status.Detail);
    }

    [Fact]
    public async Task A_query_receipt_verifies_only_for_the_grant_revision_query_and_result_the_answer_names()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());

        var answer = await initech.RunQueryAsync(grant.Name, "select city, count(*) from data group by city", dataset.LatestRevision);
        var sha256 = answer.ResultSha256.ToByteArray();
        var honest = new ExpectedQuery(grant.Name, answer.Revision, answer.Query, sha256);
        var verified = await initech.VerifyQueryReceiptAsync(answer.Receipt, honest);
        Assert.True(verified.Succeeded, verified.Message);

        // A gateway that logged another query, revision or result than it answered with is caught.
        Assert.Equal(VerificationCheck.Event, (await initech.VerifyQueryReceiptAsync(answer.Receipt, honest with { Query = "SELECT COUNT(*) FROM data" })).FailedCheck);
        Assert.Equal(VerificationCheck.Revision, (await initech.VerifyQueryReceiptAsync(answer.Receipt, honest with { Revision = dataset.Name + "/revisions/9" })).FailedCheck);
        Assert.Equal(VerificationCheck.Sha256, (await initech.VerifyQueryReceiptAsync(answer.Receipt, honest with { ResultSha256 = new byte[32] })).FailedCheck);
        Assert.Equal(VerificationCheck.Grant, (await initech.VerifyQueryReceiptAsync(answer.Receipt, honest with { Grant = "grants/other" })).FailedCheck);
    }

    [Fact]
    public async Task An_answer_of_more_rows_than_a_response_holds_is_refused_as_resource_exhausted_and_logged()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var csv = new System.Text.StringBuilder("person,name,city,amount\n");
        for (var i = 0; i <= 10_000; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"p{i},Name{i},Bergen,{i}\n");
        }

        var dataset = await ComputeFixture.PurchasesAsync(acme, csv.ToString());
        var rule = ComputeFixture.Rule();
        rule.MinIdentities = 1;
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, rule);

        var error = await Rpc.FailsWith(StatusCode.ResourceExhausted, initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT name, COUNT(*) FROM data GROUP BY name" }));
        Assert.Contains("more than 10000 rows", error.Status.Detail);
        var logged = (await QueryEventsAsync(dataset.Name)).Last();
        Assert.Equal(AuditOutcome.Failed, logged.Outcome);
        Assert.StartsWith("The answer would hold more than 10000 rows", Details(logged)["reason"]);

        var limited = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT name, COUNT(*) FROM data GROUP BY name LIMIT 10000" });
        Assert.Equal(10_000, limited.Result.Rows.Count);
    }

    [Fact]
    public async Task Automatic_approval_gives_a_private_rule_but_not_a_smaller_epsilon_per_query_which_would_mean_more_queries()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        using var umbrella = Gateway.ClientFor(Participant.Umbrella);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var offered = ComputeFixture.Rule(new DifferentialPrivacy { QueryEpsilonMillis = 1000, BudgetEpsilonMillis = 10_000 });
        dataset.AutoApprovalTerms = new Terms { Purposes = { "research" }, Kind = GrantKind.Compute, Analysis = offered };
        await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest { Dataset = dataset, UpdateMask = new() { Paths = { "auto_approval_terms" } } });

        var same = await initech.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute, Analysis = offered });
        Assert.Equal(AccessRequestState.Approved, same.State);

        // Each query may fail its guarantee with chance delta: a thousandth of the epsilon is a thousand times the queries.
        var smaller = offered.Clone();
        smaller.Privacy.QueryEpsilonMillis = 1;
        var pending = await umbrella.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute, Analysis = smaller });
        Assert.Equal(AccessRequestState.Pending, pending.State);
        Assert.Contains("a smaller epsilon per query than the automatic rule's 1", pending.DecisionReason);
    }

    [Fact]
    public async Task A_private_query_that_may_form_more_groups_than_allowed_by_the_published_quality_report_is_refused_before_it_runs()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var csv = new System.Text.StringBuilder("person,name,city,amount\n");
        for (var i = 0; i < 1200; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"p{i},Name{i},City{i},{i}\n");
        }

        var dataset = await ComputeFixture.PurchasesAsync(acme, csv.ToString());
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset,
            ComputeFixture.Rule(new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 }));

        // About 1,200 names times 1,200 cities: some 1.4 million possible groups, each noised before the threshold.
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT name, city, COUNT(*) FROM data GROUP BY name, city" }));
        Assert.Contains("group on fewer or coarser dimensions", error.Status.Detail);
        Assert.Equal(0, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.ComputeBudget.SpentEpsilonMillis);

        var single = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT city, COUNT(*) FROM data GROUP BY city" });
        Assert.Equal(100, single.EpsilonSpentMillis);
    }

    [Fact]
    public async Task A_query_that_isolates_one_person_returns_no_rows_above_the_threshold()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());

        // A WHERE on a near-unique dimension: the one group is under the minimum.
        var filtered = await initech.QueryAsync(grant.Name, "SELECT COUNT(*), SUM(amount) FROM data WHERE name = 'Name0'");
        Assert.Empty(filtered.Result.Rows);
        Assert.Equal(1, filtered.Result.SuppressedRows);

        // Grouping on it: every group is.
        var grouped = await initech.QueryAsync(grant.Name, "SELECT name, COUNT(*) FROM data GROUP BY name");
        Assert.Empty(grouped.Result.Rows);
        Assert.Equal(25, grouped.Result.SuppressedRows);

        // Differencing without privacy: everyone but one, and everyone, both pass or are both checked; the
        // difference of two passing groups is what thresholds cannot hide, so the rule's dimensions decide.
        var ten = await initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data WHERE city = 'Oslo' AND name != 'Name12'");
        Assert.Empty(ten.Result.Rows);

        // A quoted string stays a value, however it is quoted: bound as a parameter, it matches no city.
        var quoted = await initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data WHERE city = 'x''); DROP TABLE data; --'");
        Assert.Equal((0, 1L), (quoted.Result.Rows.Count, quoted.Result.SuppressedRows));
        Assert.Equal(["50"], ComputeFixture.Lines(await initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data")));
    }

    [Theory]
    [InlineData("SELECT COUNT(*) FROM read_csv('/etc/passwd')", "'read_csv'")]
    [InlineData("SELECT COUNT(*) FROM data; COPY data TO '/tmp/x'", "';'")]
    [InlineData("ATTACH '/tmp/x.db'", "'ATTACH'")]
    [InlineData("SELECT person, COUNT(*) FROM data GROUP BY person", "'person' is not allowed")]
    [InlineData("SELECT amount FROM data", "'amount' is not allowed")]
    public async Task A_query_outside_the_rule_is_refused_before_it_runs_and_the_refusal_is_logged(string sql, string named)
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());

        var error = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, sql));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(named, error.Status.Detail, StringComparison.Ordinal);

        var refused = Assert.Single(await QueryEventsAsync(dataset.Name));
        Assert.Equal(AuditOutcome.Denied, refused.Outcome);
        Assert.Equal((sql, error.Status.Detail), (Details(refused)["sql"], Details(refused)["reason"]));
    }

    [Fact]
    public async Task Only_the_grant_s_consumer_queries_and_only_under_a_grant_that_allows_queries()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        using var umbrella = Gateway.ClientFor(Participant.Umbrella);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var compute = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        const string Sql = "SELECT COUNT(*) FROM data";

        async Task<StatusCode> Status(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

        // Another tenant does not learn the grant exists; its provider may see it but not query under it.
        Assert.Equal(StatusCode.NotFound, await Status(() => umbrella.QueryAsync(compute.Name, Sql)));
        Assert.Equal(StatusCode.PermissionDenied, await Status(() => acme.QueryAsync(compute.Name, Sql)));

        // A compute grant does not download.
        var download = await Assert.ThrowsAsync<RpcException>(() => initech.DownloadAllAsync(compute.Name));
        Assert.Equal(StatusCode.PermissionDenied, download.StatusCode);
        Assert.Contains("compute grant", download.Status.Detail, StringComparison.Ordinal);

        // A download grant does not query unless its terms carry a rule.
        var plain = await acme.ApproveAsync(await umbrella.RequestAsync(dataset));
        var refused = await Assert.ThrowsAsync<RpcException>(() => umbrella.QueryAsync(plain.Name, Sql));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("without an analysis rule", refused.Status.Detail, StringComparison.Ordinal);

        var both = await acme.ApproveAsync(await initech.RequestAsync(dataset, purpose: "teaching", terms: new Terms { Analysis = ComputeFixture.Rule() }));
        Assert.Equal(["50"], ComputeFixture.Lines(await initech.QueryAsync(both.Name, Sql)));
        Assert.NotEmpty((await initech.DownloadAllAsync(both.Name, purpose: "teaching")).Bytes);

        // Revoked: refused, and logged as a denial.
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = compute.Name, Reason = "contract ended" });
        var revoked = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(compute.Name, Sql));
        Assert.Equal(StatusCode.PermissionDenied, revoked.StatusCode);
        Assert.Contains("revoked", revoked.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(await QueryEventsAsync(dataset.Name), e => e.Resource == compute.Name && e.Outcome == AuditOutcome.Denied && e.Actor == "initech");
    }

    [Fact]
    public async Task An_approval_narrows_the_rule_and_may_not_widen_it()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var request = await initech.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute, Analysis = ComputeFixture.Rule() });

        var wider = ComputeFixture.Rule();
        wider.Dimensions.Add("person");
        var error = await Assert.ThrowsAsync<RpcException>(() => acme.ApproveAsync(request, new Terms { Analysis = wider }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);

        var download = await Assert.ThrowsAsync<RpcException>(() => acme.ApproveAsync(request, new Terms { Kind = GrantKind.Download }));
        Assert.Contains("terms.kind", download.Status.Detail, StringComparison.Ordinal);

        var narrower = ComputeFixture.Rule();
        narrower.Dimensions.Remove("name");
        narrower.MinIdentities = 11;
        var grant = await acme.ApproveAsync(request, new Terms { Analysis = narrower });
        Assert.Equal(narrower, grant.Terms.Analysis);
        Assert.Equal(["Bergen|24"], ComputeFixture.Lines(await initech.QueryAsync(grant.Name, "SELECT city, COUNT(*) FROM data GROUP BY city")));
        var name = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data WHERE name = 'Name1'"));
        Assert.Equal(StatusCode.InvalidArgument, name.StatusCode);

        var missing = await Assert.ThrowsAsync<RpcException>(() => initech.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute }));
        Assert.Contains("analysis is required", missing.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_under_an_expired_grant_is_refused_and_logged()
    {
        // The gateway's clock, which the test moves past the expiry instead of waiting for it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ExchangeFactory { Clock = clock };
        using var acme = factory.OnClock(Participant.Acme);
        using var initech = factory.OnClock(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var request = await initech.RequestAsync(dataset, terms: new Terms
        {
            Kind = GrantKind.Compute,
            Analysis = ComputeFixture.Rule(),
            ExpireTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(clock.GetUtcNow() + TimeSpan.FromMinutes(1)),
        });
        var grant = await acme.ApproveAsync(request);
        Assert.Equal(["50"], ComputeFixture.Lines(await initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data")));

        clock.Advance(TimeSpan.FromMinutes(2));
        var expired = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data"));
        Assert.Equal(StatusCode.PermissionDenied, expired.StatusCode);
        Assert.Contains("expired", expired.Status.Detail, StringComparison.Ordinal);
        using var auditor = factory.OnClock(Participant.Auditor);
        var events = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "compute.query" })).Events;
        Assert.Equal([AuditOutcome.Success, AuditOutcome.Denied], events.Select(e => e.Outcome));
    }

    /// <summary>A gateway whose engine may use next to no memory, so every query fails in it.</summary>
    private sealed class StarvedEngine() : ExchangeFactory(("Exchange:Compute:MemoryLimitBytes", "1"));

    [Fact]
    public async Task A_query_that_fails_in_the_engine_answers_internal_and_is_logged_as_failed_spending_its_epsilon_under_privacy()
    {
        using var factory = new StarvedEngine();
        factory.ExpectErrors(e => e.Is("Exchange.Server.Hosting.UnhandledExceptionInterceptor", 1));
        using var acme = factory.ClientFor(Participant.Acme);
        using var initech = factory.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset,
            ComputeFixture.Rule(new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 }));

        var failed = await Assert.ThrowsAsync<RpcException>(() => initech.QueryAsync(grant.Name, "SELECT COUNT(*) FROM data"));
        Assert.Equal(StatusCode.Internal, failed.StatusCode);

        using var auditor = factory.ClientFor(Participant.Auditor);
        var logged = Assert.Single((await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "compute.query" })).Events);
        Assert.Equal(AuditOutcome.Failed, logged.Outcome);
        Assert.Equal("SELECT COUNT(*) FROM data", Details(logged)["query"]);
        // Whether a query fails can depend on the data: under privacy the failure costs what an answer would, spent on admission.
        var admitted = Assert.Single((await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "compute.admit" })).Events);
        Assert.Equal((admitted.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "100"), (Details(logged)["admission"], Details(admitted)["epsilon_millis"]));
        var budget = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.ComputeBudget;
        Assert.Equal((100L, 900L, 0L), (budget.SpentEpsilonMillis, budget.RemainingEpsilonMillis, budget.Queries));
        var recomputed = (await auditor.RecomputeBudgetsAsync(dataset.Name))[grant.Name];
        Assert.Equal((100L, 0L), (recomputed.SpentMillis, recomputed.Queries));
    }

    private static StructuredQuery.Types.Output Out(string column, AggregateFunction function = AggregateFunction.Unspecified, string name = "") =>
        new() { Column = column, Function = function, Name = name };

    [Fact]
    public async Task A_structured_query_is_checked_run_and_logged_as_its_sql_form_is()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());

        var structured = new StructuredQuery
        {
            Outputs = { Out("city"), Out("", AggregateFunction.Count), Out("amount", AggregateFunction.Avg, "mean") },
            Where = new Predicate { Comparison = new Comparison { Column = "city", Operator = ComparisonOperator.In, Values = { "Bergen", "Oslo", "Tromsø" } } },
            GroupBy = { "city" },
            OrderBy = { new StructuredQuery.Types.Order { Output = 1, Descending = true } },
            Limit = 5,
        };
        var answer = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Structured = structured });
        Assert.Equal("SELECT city, COUNT(*), AVG(amount) AS mean FROM data WHERE city IN ('Bergen', 'Oslo', 'Tromsø') GROUP BY city ORDER BY 2 DESC LIMIT 5", answer.Query);
        Assert.Equal(["Bergen|24|55.5", "Oslo|20|165.5"], ComputeFixture.Lines(answer));
        var sql = await initech.QueryAsync(grant.Name, answer.Query);
        Assert.Equal(answer.ResultSha256, sql.ResultSha256);

        async Task<string> RefusedAsync(StructuredQuery query)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() =>
                initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Structured = query }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            return error.Status.Detail;
        }

        Assert.Contains("'person' is not allowed", await RefusedAsync(new StructuredQuery { Outputs = { Out("person"), Out("", AggregateFunction.Count) }, GroupBy = { "person" } }),
            StringComparison.Ordinal);
        Assert.Contains("structured.outputs[0].column is required", await RefusedAsync(new StructuredQuery { Outputs = { Out("", AggregateFunction.Sum) } }),
            StringComparison.Ordinal);
        Assert.Contains("PREFIX is not available", await RefusedAsync(new StructuredQuery
        {
            Outputs = { Out("", AggregateFunction.Count) },
            Where = new Predicate { Comparison = new Comparison { Column = "city", Operator = ComparisonOperator.Prefix, Values = { "B" } } },
        }), StringComparison.Ordinal);
        Assert.Contains("WHERE on 'amount' is not allowed", await RefusedAsync(new StructuredQuery
        {
            Outputs = { Out("", AggregateFunction.Count) },
            Where = new Predicate { Comparison = new Comparison { Column = "amount", Operator = ComparisonOperator.Equal, Values = { "10" } } },
        }), StringComparison.Ordinal);
        Assert.Contains("order_by[0].output 3", await RefusedAsync(new StructuredQuery
        {
            Outputs = { Out("", AggregateFunction.Count) },
            OrderBy = { new StructuredQuery.Types.Order { Output = 3 } },
        }), StringComparison.Ordinal);

        // Each refusal is a logged query too, the message as sent.
        var refused = (await QueryEventsAsync(dataset.Name)).Where(e => e.Outcome == AuditOutcome.Denied).ToList();
        Assert.Equal(5, refused.Count);
        Assert.All(refused, e => Assert.Contains("outputs", Details(e)["structured"], StringComparison.Ordinal));
    }

    /// <summary>Twelve people, each with one purchase of <paramref name="amount"/> (a DECIMAL column), under the default rule.</summary>
    private async Task<(ExchangeClient Consumer, Grant Grant, Dataset Dataset)> DecimalsAsync(ExchangeClient acme, string amount)
    {
        var csv = new System.Text.StringBuilder("person,name,city,amount\n");
        for (var i = 0; i < 12; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"p{i},Name{i},Bergen,{amount}\n");
        }

        var dataset = await ComputeFixture.PurchasesAsync(acme, csv.ToString());
        var initech = Gateway.ClientFor(Participant.Initech);
        return (initech, await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule()), dataset);
    }

    [Fact]
    public async Task A_decimal_sum_beyond_the_engine_s_range_is_refused_as_out_of_range_and_one_within_it_is_exact()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);

        // 12 × 9·10^26 is past DECIMAL(38,10)'s 28 whole digits, yet within the 128 bits the engine sums in: exact, to the last digit.
        var (near, nearGrant, _) = await DecimalsAsync(acme, "900000000000000000000000000.5");
        using (near)
        {
            Assert.Equal(["10800000000000000000000000006"], ComputeFixture.Lines(await near.QueryAsync(nearGrant.Name, "SELECT SUM(amount) FROM data")));
        }

        // 12 × 9·10^27 is past both the engine's range and .NET's decimal: refused, saying what to do, not INTERNAL.
        var (far, farGrant, farData) = await DecimalsAsync(acme, "9000000000000000000000000000");
        using (far)
        {
            foreach (var sql in new[] { "SELECT SUM(amount) FROM data", "SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city" })
            {
                var refused = await Rpc.FailsWith(StatusCode.OutOfRange, far.Compute.RunQueryAsync(new RunQueryRequest { Grant = farGrant.Name, Sql = sql }));
                Assert.Contains(sql.Contains("SUM", StringComparison.Ordinal) ? "SUM(amount) over the rows" : "AVG(amount) over the rows", refused.Status.Detail, StringComparison.Ordinal);
                // The engine's own message holds the data's intermediate sums; the caller never sees them.
                Assert.DoesNotContain("000000000", refused.Status.Detail, StringComparison.Ordinal);
            }

            Assert.Equal(["12"], ComputeFixture.Lines(await far.QueryAsync(farGrant.Name, "SELECT COUNT(amount) FROM data")));
            var logged = (await QueryEventsAsync(farData.Name)).Where(e => e.Outcome == AuditOutcome.Failed).ToList();
            Assert.Equal(2, logged.Count);
            Assert.All(logged, e => Assert.Contains("goes beyond the 38 digits", Details(e)["reason"], StringComparison.Ordinal));
        }

        // One value wider than the engine keeps (it reads as a .NET decimal, so a delivery carries it): the column cannot be queried, said so without the value.
        var (wide, wideGrant, _) = await DecimalsAsync(acme, "50000000000000000000000000001");
        using (wide)
        {
            var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, wide.Compute.RunQueryAsync(new RunQueryRequest { Grant = wideGrant.Name, Sql = "SELECT COUNT(*) FROM data" }));
            Assert.Contains("column 'amount' a decimal of more than 28 whole digits", refused.Status.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("5000", refused.Status.Detail, StringComparison.Ordinal);
        }
    }
}
