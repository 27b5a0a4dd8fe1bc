using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Participants;

/// <summary>
/// Operators suspend and reinstate participants (DESIGN: "suspend a participant; every operator
/// action is logged"); a suspended participant can do nothing on the exchange until reinstated.
/// </summary>
public sealed class SuspensionTests : IDisposable
{
    private const string Reason = "unpaid invoices since March";

    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private static Task<SuspendParticipantResponse> SuspendAsync(ExchangeClient client, string id, string reason = Reason) =>
        client.Participants.SuspendParticipantAsync(new SuspendParticipantRequest { Name = $"participants/{id}", Reason = reason }).ResponseAsync;

    private static Task<ReinstateParticipantResponse> ReinstateAsync(ExchangeClient client, string id, string reason = "") =>
        client.Participants.ReinstateParticipantAsync(new ReinstateParticipantRequest { Name = $"participants/{id}", Reason = reason }).ResponseAsync;

    private static void AssertSuspensionRefusal(RpcException error)
    {
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("'initech' is suspended", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(Reason, error.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task<List<AuditEvent>> EventsAsync(ExchangeClient auditor, string action) =>
        (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = action, PageSize = 1000 })).Events.ToList();

    [Fact]
    public async Task A_suspended_participant_is_refused_every_call_with_the_reason_until_reinstated_and_both_are_logged()
    {
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        using var ops = _factory.As(Participant.Operator);
        using var auditor = _factory.As(Participant.Auditor);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        var suspended = (await SuspendAsync(ops, "initech")).Participant;
        Assert.Equal(("participants/initech", ParticipantState.Suspended, Reason), (suspended.Name, suspended.State, suspended.SuspendReason));
        Assert.NotNull(suspended.SuspendTime);
        Assert.Equal(suspended.SuspendTime, suspended.UpdateTime);

        // Unary calls of every service, a new download, an upload and a watch: all refused, naming the suspension.
        AssertSuspensionRefusal(await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest())));
        AssertSuspensionRefusal(await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })));
        AssertSuspensionRefusal(await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Audit.GetCheckpointAsync(new GetCheckpointRequest())));
        AssertSuspensionRefusal(await Rpc.FailsWith(StatusCode.PermissionDenied,
            initech.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "participants/initech" })));
        AssertSuspensionRefusal(await Assert.ThrowsAsync<RpcException>(() => initech.DownloadAllAsync(grant.Name)));
        AssertSuspensionRefusal(await Assert.ThrowsAsync<RpcException>(() =>
            initech.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" })));
        AssertSuspensionRefusal(await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var watch = initech.Audit.WatchAuditEvents(new WatchAuditEventsRequest());
            await watch.ResponseStream.MoveNext(CancellationToken.None);
        }));

        // Nothing took effect: no transfer was started under the grant, and others go on as before.
        Assert.Equal(0, (await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
        Assert.NotEmpty((await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest())).Datasets);

        var logged = Assert.Single(await EventsAsync(auditor, "participant.suspend"));
        Assert.Equal(("ops", "participants/initech", "initech", AuditOutcome.Success), (logged.Actor, logged.Resource, logged.Subject, logged.Outcome));
        Assert.Equal(Reason, Assert.Single(logged.Details, d => d.Key == "reason").Value);
        Assert.Equal(suspended, (await auditor.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "participants/initech" })).Participant);

        var reinstated = (await ReinstateAsync(ops, "initech", "paid")).Participant;
        Assert.Equal((ParticipantState.Active, "", null), (reinstated.State, reinstated.SuspendReason, reinstated.SuspendTime));
        Assert.NotEmpty((await initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest())).Datasets);
        var (_, bytes, _) = await initech.DownloadAllAsync(grant.Name);
        Assert.Equal(CatalogFixture.SampleBytes, bytes);

        var lifted = Assert.Single(await EventsAsync(auditor, "participant.reinstate"));
        Assert.Equal(("ops", "initech", AuditOutcome.Success), (lifted.Actor, lifted.Subject, lifted.Outcome));
        Assert.Equal("paid", Assert.Single(lifted.Details, d => d.Key == "reason").Value);

        // The participant sees both decisions about itself in the log.
        var mine = (await initech.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { PageSize = 1000 })).Events;
        Assert.Equal(["participant.suspend", "participant.reinstate"], mine.Where(e => e.Action.StartsWith("participant.", StringComparison.Ordinal)).Select(e => e.Action));
    }

    [Fact]
    public async Task Only_an_operator_may_suspend_or_reinstate_and_every_refusal_is_logged_with_the_caller_as_actor()
    {
        using var ops = _factory.As(Participant.Operator);
        using var auditor = _factory.As(Participant.Auditor);
        foreach (var who in new[] { Participant.Acme, Participant.Umbrella, Participant.Auditor })
        {
            using var client = _factory.As(who);
            var error = await Rpc.FailsWith(StatusCode.PermissionDenied, () => SuspendAsync(client, "initech"));
            Assert.Contains("operator", error.Status.Detail, StringComparison.Ordinal);
        }

        await SuspendAsync(ops, "globex");
        using (var acme = _factory.As(Participant.Acme))
        {
            await Rpc.FailsWith(StatusCode.PermissionDenied, () => ReinstateAsync(acme, "globex"));
        }

        var denied = (await EventsAsync(auditor, "participant.suspend")).Where(e => e.Outcome == AuditOutcome.Denied).ToList();
        Assert.Equal(["acme", "umbrella", "audit-co"], denied.Select(e => e.Actor));
        Assert.All(denied, e => Assert.Equal(("participants/initech", "initech"), (e.Resource, e.Subject)));
        var reinstateDenied = Assert.Single(await EventsAsync(auditor, "participant.reinstate"));
        Assert.Equal(("acme", AuditOutcome.Denied), (reinstateDenied.Actor, reinstateDenied.Outcome));

        // Nobody but the operator changed anything.
        using var initech = _factory.As(Participant.Initech);
        Assert.NotNull(await initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
        Assert.Equal(ParticipantState.Suspended,
            (await auditor.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "participants/globex" })).Participant.State);
    }

    [Fact]
    public async Task Suspensions_that_change_nothing_or_lock_out_the_operator_are_refused_and_the_reason_is_required()
    {
        using var ops = _factory.As(Participant.Operator);
        var self = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => SuspendAsync(ops, "ops"));
        Assert.Contains("cannot suspend itself", self.Status.Detail, StringComparison.Ordinal);
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => SuspendAsync(ops, "initech", reason: "  "));
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => SuspendAsync(ops, "Not A Participant"));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, () => ReinstateAsync(ops, "initech"));

        await SuspendAsync(ops, "initech");
        var again = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => SuspendAsync(ops, "initech", "another reason"));
        Assert.Contains(Reason, again.Status.Detail, StringComparison.Ordinal);

        // Another operator may suspend this one, and the first may not undo it: all of its calls are refused.
        using var ops2 = _factory.ClientFor("ops2", "operator");
        await SuspendAsync(ops2, "ops");
        await Rpc.FailsWith(StatusCode.PermissionDenied, () => ReinstateAsync(ops, "initech"));
        await ReinstateAsync(ops2, "ops");
        await ReinstateAsync(ops, "initech");

        using var auditor = _factory.As(Participant.Auditor);
        Assert.Equal(2, (await EventsAsync(auditor, "participant.suspend")).Count);
        Assert.Equal(2, (await EventsAsync(auditor, "participant.reinstate")).Count);
    }

    [Fact]
    public async Task A_never_suspended_participant_is_active_and_who_may_read_states_is_limited()
    {
        using var initech = _factory.As(Participant.Initech);
        using var umbrella = _factory.As(Participant.Umbrella);
        using var ops = _factory.As(Participant.Operator);
        using var auditor = _factory.As(Participant.Auditor);

        var own = (await initech.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "participants/initech" })).Participant;
        Assert.Equal(new V1.Participant { Name = "participants/initech", State = ParticipantState.Active }, own);
        await Rpc.FailsWith(StatusCode.PermissionDenied, umbrella.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "participants/initech" }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Participants.ListParticipantsAsync(new ListParticipantsRequest()));
        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Participants.GetParticipantAsync(new GetParticipantRequest { Name = "initech" }));

        await SuspendAsync(ops, "umbrella");
        await SuspendAsync(ops, "globex");
        await ReinstateAsync(ops, "globex");

        var all = await auditor.EnumerateParticipantsAsync(new ListParticipantsRequest { PageSize = 1 }).ToListAsync();
        Assert.Equal(["participants/umbrella", "participants/globex"], all.Select(p => p.Name));
        var suspended = (await ops.Participants.ListParticipantsAsync(new ListParticipantsRequest { State = ParticipantState.Suspended })).Participants;
        Assert.Equal(("participants/umbrella", Reason), (Assert.Single(suspended).Name, suspended[0].SuspendReason));
        var active = (await ops.Participants.ListParticipantsAsync(new ListParticipantsRequest { State = ParticipantState.Active })).Participants;
        Assert.Equal("participants/globex", Assert.Single(active).Name);
        Assert.NotNull(active[0].UpdateTime);
    }

    [Fact]
    public async Task A_download_running_when_the_suspension_lands_stops_with_the_reason_and_its_transfer_fails()
    {
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        using var ops = _factory.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(64 * 65536)));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var suspended = (await SuspendAsync(ops, "initech")).Participant;

        // The server stops the stream itself, however slowly the consumer reads what is already in flight.
        var failed = await WaitForFailureAsync(acme, transfer);
        Assert.Contains("suspended", failed.FailureReason, StringComparison.Ordinal);
        Assert.Contains(Reason, failed.FailureReason, StringComparison.Ordinal);
        var stoppedAfter = failed.EndTime.ToDateTimeOffset() - suspended.SuspendTime.ToDateTimeOffset();
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(1), $"stopped {stoppedAfter} after the suspension");
        var error = await call.EndsWithoutTrailerAsync();
        AssertSuspensionRefusal(error);
    }

    [Fact]
    public async Task A_suspended_providers_automatic_terms_approve_nothing_in_its_name_and_the_request_waits_for_it()
    {
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        using var ops = _factory.As(Participant.Operator);
        var open = new Dataset { Title = "Open research data", Classification = Classification.Public, AutoApprovalTerms = new Terms { Purposes = { "research" } } };
        var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = open })).Dataset;
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });

        await SuspendAsync(ops, "acme");
        var waiting = await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" } });
        Assert.Equal(AccessRequestState.Pending, waiting.State);
        Assert.Contains("acme is suspended", waiting.DecisionReason);
        Assert.Empty((await initech.Access.ListGrantsAsync(new ListGrantsRequest())).Grants);

        // Reinstated, the provider decides the waiting request itself.
        await ReinstateAsync(ops, "acme");
        var grant = await acme.ApproveAsync(waiting);
        Assert.Equal(dataset.Name, grant.Dataset);
    }

    [Fact]
    public async Task A_suspension_outlives_a_restart_of_the_gateway()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
        using (var first = ExchangeFactory.Over(directory, keepData: true))
        {
            using var ops = first.As(Participant.Operator);
            await SuspendAsync(ops, "initech");
        }

        using var restarted = ExchangeFactory.Over(directory, keepData: false);
        using var initech = restarted.As(Participant.Initech);
        AssertSuspensionRefusal(await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest())));
        using var umbrella = restarted.As(Participant.Umbrella);
        Assert.NotNull(await umbrella.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
    }

    /// <summary>The provider polls the transfer (the consumer, suspended, cannot) until it failed.</summary>
    private static async Task<Transfer> WaitForFailureAsync(ExchangeClient provider, string transfer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var current = (await provider.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
            if (current.State == TransferState.Failed || DateTime.UtcNow > deadline)
            {
                Assert.Equal(TransferState.Failed, current.State);
                return current;
            }

            await Task.Delay(20);
        }
    }
}
