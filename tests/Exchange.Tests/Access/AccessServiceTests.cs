using Exchange.Server.Storage;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Access;

/// <summary>
/// Access requests and grants, on one gateway for the class: each test's providers and consumers
/// are fresh, so what they list, and what the auditor finds about them, is that test's only.
/// </summary>
public sealed class AccessServiceTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private readonly Participant _acme = Participant.Acme.Fresh();
    private readonly Participant _globex = Participant.Globex.Fresh();
    private readonly Participant _initech = Participant.Initech.Fresh();
    private readonly Participant _umbrella = Participant.Umbrella.Fresh();

    private static Timestamp In(TimeSpan span) => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + span);

    [Fact]
    public async Task A_consumer_requests_the_provider_narrows_and_both_see_the_grant_but_nobody_else()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        using var umbrella = Gateway.As(_umbrella);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        var request = await initech.RequestAsync(dataset, "research",
            new Terms { Purposes = { "research", "teaching" }, ExpireTime = In(TimeSpan.FromDays(30)), MaxTransfers = 10 });
        Assert.Matches("^accessRequests/[a-z0-9]{16}$", request.Name);
        Assert.Equal((AccessRequestState.Pending, _initech.Id, _acme.Id, dataset.Name), (request.State, request.Consumer, request.Provider, request.Dataset));

        var narrower = new Terms { Purposes = { "research" }, ExpireTime = In(TimeSpan.FromDays(7)), MaxTransfers = 3 };
        var approved = await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name, Terms = narrower });
        var grant = approved.Grant;
        Assert.Equal(AccessRequestState.Approved, approved.AccessRequest.State);
        Assert.Equal(grant.Name, approved.AccessRequest.Grant);
        Assert.Equal((GrantState.Active, _initech.Id, _acme.Id, 0L), (grant.State, grant.Consumer, grant.Provider, grant.TransfersUsed));
        Assert.Equal(narrower, grant.Terms);

        Assert.Equal(grant, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant);
        Assert.Equal(grant, (await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant);
        Assert.Single((await initech.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);
        Assert.Single((await acme.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);

        await Rpc.FailsWith(StatusCode.NotFound, umbrella.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name }));
        await Rpc.FailsWith(StatusCode.NotFound, umbrella.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = request.Name }));
        Assert.Empty((await umbrella.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);
        Assert.Empty((await umbrella.Access.ListAccessRequestsAsync(new ListAccessRequestsRequest())).AccessRequests);
        using var globex = Gateway.As(_globex);
        await Rpc.FailsWith(StatusCode.NotFound, globex.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name }));
        using var auditor = Gateway.As(Participant.Auditor);
        Assert.Single((await auditor.Access.ListGrantsAsync(new ListGrantsRequest { Dataset = dataset.Name })).Grants);
    }

    [Fact]
    public async Task The_stated_purpose_is_always_among_the_requested_purposes_and_approval_without_terms_grants_what_was_asked()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        var request = await initech.RequestAsync(dataset, "fraud-detection");
        Assert.Equal(["fraud-detection"], request.RequestedTerms.Purposes);

        var grant = await acme.ApproveAsync(request);
        Assert.Equal(request.RequestedTerms, grant.Terms);
        Assert.Equal(0, grant.Terms.MaxTransfers);
    }

    public static TheoryData<string, Terms> Widenings => new()
    {
        { "purposes", new Terms { Purposes = { "research", "marketing" }, MaxTransfers = 5 } },
        { "expire_time", new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(60)), MaxTransfers = 5 } },
        { "max_transfers", new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)), MaxTransfers = 6 } },
    };

    [Theory]
    [MemberData(nameof(Widenings))]
    public async Task An_approval_may_narrow_but_never_widen(string field, Terms wider)
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var request = await initech.RequestAsync(dataset, "research",
            new Terms { Purposes = { "research" }, ExpireTime = In(TimeSpan.FromDays(30)), MaxTransfers = 5 });

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument,
            acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name, Terms = wider }));
        Assert.Contains(field, error.Status.Detail);
        Assert.Equal(AccessRequestState.Pending,
            (await acme.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = request.Name })).AccessRequest.State);
        Assert.Empty((await acme.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);
    }

    [Fact]
    public async Task Terms_an_approval_leaves_unset_are_the_requested_ones()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var until = In(TimeSpan.FromDays(30));
        var request = await initech.RequestAsync(dataset, "research",
            new Terms { Purposes = { "research", "teaching" }, ExpireTime = until, MaxTransfers = 20 });

        // As `exchange access approve <request> --max-transfers 10` sends it: only that field.
        var grant = await acme.ApproveAsync(request, new Terms { MaxTransfers = 10 });

        Assert.Equal(["research", "teaching"], grant.Terms.Purposes);
        Assert.Equal(until, grant.Terms.ExpireTime);
        Assert.Equal(10, grant.Terms.MaxTransfers);
    }

    [Fact]
    public async Task A_request_stating_only_an_allowed_purpose_is_approved_under_the_automatic_terms_and_others_say_why_not()
    {
        using var acme = Gateway.As(_acme);
        var open = new Dataset
        {
            Title = "Open data",
            Classification = Classification.Public,
            AutoApprovalTerms = new Terms { Purposes = { "research" }, MaxTransfers = 5 },
        };
        var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = open })).Dataset;
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        using var initech = Gateway.As(_initech);

        // `exchange access request <dataset> --purpose research`: no terms beyond the purpose.
        var approved = await initech.RequestAsync(dataset, "research");
        Assert.Equal(AccessRequestState.Approved, approved.State);
        Assert.Equal(5, approved.RequestedTerms.MaxTransfers);
        var grant = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = approved.Grant })).Grant;
        Assert.Equal((5L, "research"), (grant.Terms.MaxTransfers, grant.Terms.Purposes.Single()));
        using var auditor = Gateway.As(Participant.Auditor);
        var recorded = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "access.request", Dataset = dataset.Name })).Single();
        Assert.Equal("5", recorded.Details.Single(d => d.Key == "max_transfers").Value);

        using var umbrella = Gateway.As(_umbrella);
        var more = await umbrella.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, MaxTransfers = 20 });
        Assert.Equal(AccessRequestState.Pending, more.State);
        Assert.Contains("20 transfers, beyond the automatic 5", more.DecisionReason);
        await umbrella.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = more.Name });
        var other = await umbrella.RequestAsync(dataset, "marketing");
        Assert.Contains("'marketing' is not one approved automatically (research)", other.DecisionReason);

        var decided = await acme.ApproveAsync(other);
        Assert.Equal("", (await umbrella.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = other.Name })).AccessRequest.DecisionReason);
        Assert.Equal(["marketing"], decided.Terms.Purposes);
    }

    [Fact]
    public async Task Requests_are_refused_for_the_wrong_caller_or_dataset_with_the_right_status()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var listed = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var draft = await CatalogFixture.CreateAsync(acme);
        var delisted = await CatalogFixture.CreateAsync(acme, DatasetState.Delisted);

        await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = listed.Name }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = "nope", Purpose = "x" }));
        await Rpc.FailsWith(StatusCode.NotFound, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = draft.Name, Purpose = "x" }));
        await Rpc.FailsWith(StatusCode.NotFound, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = delisted.Name, Purpose = "x" }));
        using var globex = Gateway.As(_globex);
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = listed.Name, Purpose = "x" }));
        using var acmeConsumer = Gateway.ClientFor(_acme.Id, "provider", "consumer");
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acmeConsumer.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = listed.Name, Purpose = "x" }));

        var first = await initech.RequestAsync(listed);
        var duplicate = await Rpc.FailsWith(StatusCode.AlreadyExists, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = listed.Name, Purpose = "other" }));
        Assert.Contains(first.Name, duplicate.Status.Detail);
    }

    [Fact]
    public async Task A_retried_request_with_the_same_request_id_returns_the_first_request()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var call = new RequestAccessRequest { Dataset = dataset.Name, Purpose = "research", RequestId = "retry-1" };

        var first = (await initech.Access.RequestAccessAsync(call)).AccessRequest;
        var again = (await initech.Access.RequestAccessAsync(call)).AccessRequest;

        Assert.Equal(first, again);
    }

    [Fact]
    public async Task Reject_withdraw_and_who_may_decide()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var request = await initech.RequestAsync(dataset);

        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name }));
        using var ops = Gateway.As(Participant.Operator);
        await Rpc.FailsWith(StatusCode.PermissionDenied, ops.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, acme.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = request.Name }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = request.Name }));

        var rejected = (await acme.Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = request.Name, Reason = "not for marketing" })).AccessRequest;
        Assert.Equal((AccessRequestState.Rejected, "not for marketing"), (rejected.State, rejected.DecisionReason));
        Assert.NotNull(rejected.DecideTime);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name }));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = request.Name }));

        var second = await initech.RequestAsync(dataset);
        var withdrawn = (await initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = second.Name })).AccessRequest;
        Assert.Equal(AccessRequestState.Withdrawn, withdrawn.State);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = second.Name, Reason = "late" }));
    }

    [Fact]
    public async Task Racing_approvals_yield_one_grant_and_the_losers_get_failed_precondition()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var request = await initech.RequestAsync(dataset);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            try
            {
                await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name });
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));

        Assert.Equal(1, attempts.Count(s => s == StatusCode.OK));
        Assert.Equal(11, attempts.Count(s => s == StatusCode.FailedPrecondition));
        Assert.Single((await acme.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);
    }

    [Fact]
    public async Task Revocation_is_final_and_only_for_the_provider_or_an_operator()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "mine" }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name }));
        var revoked = (await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "breach of terms" })).Grant;
        Assert.Equal((GrantState.Revoked, "breach of terms"), (revoked.State, revoked.RevokeReason));
        Assert.NotNull(revoked.RevokeTime);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "again" }));

        var second = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        var byOperator = (await ops.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = second.Name, Reason = "suspended" })).Grant;
        Assert.Equal(GrantState.Revoked, byOperator.State);
        Assert.Equal([second.Name, grant.Name], (await initech.Access.ListGrantsAsync(new ListGrantsRequest { State = GrantState.Revoked })).Grants.Select(g => g.Name).Reverse());
    }

    [Fact]
    public async Task Grant_state_is_correct_when_read_expired_after_its_expiry_and_exhausted_when_its_transfers_are_used()
    {
        // The gateway's clock, which the test moves past the expiry instead of waiting for it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ExchangeFactory { Clock = clock };
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var expiring = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research",
            new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(clock.GetUtcNow() + TimeSpan.FromSeconds(3)) }));
        Assert.Equal(GrantState.Active, expiring.State);

        var limited = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, MaxTransfers = 2 }));
        var database = factory.Services.GetRequiredService<Database>();
        await database.WriteAsync(u => u.Command($"UPDATE grants SET transfers_used = 2 WHERE id = '{limited.Name[7..]}'").ExecuteNonQuery(), CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(100));
        Assert.Equal(GrantState.Expired, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = expiring.Name })).Grant.State);
        Assert.Equal(GrantState.Exhausted, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = limited.Name })).Grant.State);
        Assert.Equal([expiring.Name], (await initech.Access.ListGrantsAsync(new ListGrantsRequest { State = GrantState.Expired })).Grants.Select(g => g.Name));
        Assert.Equal([limited.Name], (await initech.Access.ListGrantsAsync(new ListGrantsRequest { State = GrantState.Exhausted })).Grants.Select(g => g.Name));
        Assert.Empty((await initech.Access.ListGrantsAsync(new ListGrantsRequest { State = GrantState.Active })).Grants);
    }

    [Fact]
    public async Task Requests_within_the_automatic_approval_terms_are_approved_at_once_and_others_wait()
    {
        using var acme = Gateway.As(_acme);
        var open = new Dataset { Title = "Open research data", Classification = Classification.Public, AutoApprovalTerms = new Terms { Purposes = { "research", "teaching" }, MaxTransfers = 10 } };
        var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = open })).Dataset;
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });

        using var initech = Gateway.As(_initech);
        var within = await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, MaxTransfers = 5 });
        Assert.Equal(AccessRequestState.Approved, within.State);
        var grant = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = within.Grant })).Grant;
        Assert.Equal(5, grant.Terms.MaxTransfers);

        using var umbrella = Gateway.As(_umbrella);
        var otherPurpose = await umbrella.RequestAsync(dataset, "marketing", new Terms { Purposes = { "marketing" }, MaxTransfers = 1 });
        Assert.Equal(AccessRequestState.Pending, otherPurpose.State);
        await umbrella.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = otherPurpose.Name });
        var more = await umbrella.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, MaxTransfers = 11 });
        Assert.Equal(AccessRequestState.Pending, more.State);

        using var auditor = Gateway.As(Participant.Auditor);
        var approval = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "access.approve", Dataset = dataset.Name })).Single();
        Assert.Equal((_acme.Id, _initech.Id, "true"), (approval.Actor, approval.Subject, approval.Details.Single(d => d.Key == "automatic").Value));
    }

    [Fact]
    public async Task Automatic_approval_is_a_quota_per_consumer_and_dataset_not_per_request()
    {
        using var acme = Gateway.As(_acme);
        var open = new Dataset
        {
            Title = "Open research data",
            Classification = Classification.Public,
            AutoApprovalTerms = new Terms { Purposes = { "research" }, MaxTransfers = 2 },
        };
        var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = open })).Dataset;
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        using var initech = Gateway.As(_initech);
        var terms = new Terms { Purposes = { "research" }, MaxTransfers = 2 };
        var first = await initech.RequestAsync(dataset, "research", terms);
        Assert.Equal(AccessRequestState.Approved, first.State);

        // Asking again under the automatic terms does not add two more transfers to the two already granted.
        var again = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.RequestAsync(dataset, "research", terms));
        Assert.Contains(first.Grant, again.Status.Detail);

        // Once the provider revokes the automatic grant, asking again must not undo that: the provider decides.
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = first.Grant, Reason = "abuse" });
        var afterRevocation = await initech.RequestAsync(dataset, "research", terms);
        Assert.Equal(AccessRequestState.Pending, afterRevocation.State);
        Assert.Single((await initech.Access.ListGrantsAsync(new ListGrantsRequest { Dataset = dataset.Name })).Grants);
    }

    [Fact]
    public async Task Withdrawing_needs_the_consumer_role_at_the_time_of_the_call()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var pending = await initech.RequestAsync(dataset);

        using var initechAsAuditor = Gateway.ClientFor(_initech.Id, "auditor");
        var denied = await Rpc.FailsWith(StatusCode.PermissionDenied,
            initechAsAuditor.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = pending.Name }));
        Assert.Contains("'consumer' role", denied.Status.Detail);
        Assert.Equal(AccessRequestState.Pending,
            (await initech.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = pending.Name })).AccessRequest.State);
    }

    [Fact]
    public async Task A_delisted_dataset_stays_visible_to_its_grant_holders_only()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        using var umbrella = Gateway.As(_umbrella);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, tags: ["held"]);
        await acme.ApproveAsync(await initech.RequestAsync(dataset));
        await acme.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = dataset.Name });

        Assert.Equal(DatasetState.Delisted, (await initech.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name })).Dataset.State);
        Assert.Single(await initech.EnumerateDatasetsAsync(new ListDatasetsRequest { Tag = "held" }).ToListAsync());
        await Rpc.FailsWith(StatusCode.NotFound, umbrella.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name }));
        Assert.Empty(await umbrella.EnumerateDatasetsAsync(new ListDatasetsRequest { Tag = "held" }).ToListAsync());
        // Visible, yet not listed: no new request.
        await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset.Name, Purpose = "more" }));
    }

    [Fact]
    public async Task Every_decision_and_denial_is_in_the_log_and_the_consumer_sees_the_ones_about_it()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var first = await initech.RequestAsync(dataset);
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = first.Name }));
        await acme.Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = first.Name, Reason = "no" });
        var second = await initech.RequestAsync(dataset);
        await initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = second.Name });
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "done" });

        string[] expected = ["access.request", "access.approve:Denied", "access.reject", "access.request", "access.withdraw", "access.request", "access.approve", "grant.revoke"];
        static string Describe(AuditEvent e) => e.Outcome == AuditOutcome.Denied ? $"{e.Action}:Denied" : e.Action;
        using var auditor = Gateway.As(Participant.Auditor);
        static bool AboutAccess(AuditEvent e) => e.Action.StartsWith("access.", StringComparison.Ordinal) || e.Action.StartsWith("grant.", StringComparison.Ordinal);
        Assert.Equal(expected, (await auditor.AllEventsAsync(new ListAuditEventsRequest { Participant = _initech.Id })).Where(AboutAccess).Select(Describe));
        Assert.Equal(expected, (await initech.AllEventsAsync()).Select(Describe));
        Assert.Equal(expected, (await acme.AllEventsAsync()).Where(AboutAccess).Select(Describe));
        using var umbrella = Gateway.As(_umbrella);
        Assert.Empty(await umbrella.AllEventsAsync());
    }

    [Fact]
    public async Task Lists_filter_by_dataset_state_and_consumer_and_page()
    {
        using var acme = Gateway.As(_acme);
        var a = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var b = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        using var initech = Gateway.As(_initech);
        using var umbrella = Gateway.As(_umbrella);
        var r1 = await initech.RequestAsync(a);
        var r2 = await umbrella.RequestAsync(a);
        var r3 = await initech.RequestAsync(b);
        await acme.ApproveAsync(r3);

        async Task<string[]> Names(ListAccessRequestsRequest request)
        {
            var names = new List<string>();
            do
            {
                var page = await acme.Access.ListAccessRequestsAsync(request);
                names.AddRange(page.AccessRequests.Select(r => r.Name));
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken != "");
            return [.. names];
        }

        Assert.Equal([r1.Name, r2.Name, r3.Name], await Names(new() { PageSize = 1 }));
        Assert.Equal([r1.Name, r2.Name], await Names(new() { Dataset = a.Name }));
        Assert.Equal([r1.Name, r3.Name], await Names(new() { Consumer = _initech.Id }));
        Assert.Equal([r3.Name], await Names(new() { State = AccessRequestState.Approved }));
        Assert.Equal([r2.Name], (await umbrella.Access.ListAccessRequestsAsync(new ListAccessRequestsRequest())).AccessRequests.Select(r => r.Name));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.ListAccessRequestsAsync(new ListAccessRequestsRequest { State = (AccessRequestState)9 }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.ListGrantsAsync(new ListGrantsRequest { Dataset = "bad" }));
    }
}
