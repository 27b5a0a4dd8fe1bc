using System.Security.Cryptography;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Exchange.Tests.Infrastructure;
using Grpc.Core;
using static Exchange.Tests.Rights.RightsFixture;

namespace Exchange.Tests.Rights;

/// <summary>
/// Each transition of a right, and each refusal, on a gateway where rights are required and the
/// public notice ends at once (the notice period itself: <see cref="RightsNoticeTests"/>).
/// </summary>
public sealed class RightsLifecycleTests(RightsGateway gateway) : SharedGatewayTests<RightsGateway>(gateway)
{
    private static readonly DateTimeOffset NextYear = DateTimeOffset.UtcNow.AddYears(1);

    [Fact]
    public async Task A_registration_is_pending_with_its_evidence_until_an_operator_approves_it_and_every_step_is_logged_with_the_record_hash()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);

        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding, ["research"], NextYear);
        Assert.Equal(RightState.Pending, pending.State);
        Assert.Equal("acme", pending.Holder);
        Assert.Equal(dataset.Name, pending.Dataset);
        Assert.StartsWith(dataset.Name + "/rights/", pending.Name, StringComparison.Ordinal);
        Assert.Equal(RightBasisKind.OwnCollection, pending.Basis.Kind);
        Assert.Equal(32, pending.Basis.Evidence[0].Sha256.Length);
        Assert.NotNull(pending.NoticeEndTime);
        Assert.Equal(1, pending.Version);

        var approved = (await ops.Rights.ApproveRightAsync(new ApproveRightRequest { Name = pending.Name })).Right;
        Assert.Equal(RightState.Active, approved.State);
        Assert.Null(approved.NoticeEndTime);
        Assert.Equal(2, approved.Version);

        // Each event commits to the record as it then stood; the last one to the record the registry serves.
        var events = await EventsAsync(acme, pending.Name);
        Assert.Equal(["right.register", "right.approve"], events.Select(e => e.Action));
        Assert.All(events, e => Assert.Equal(dataset.Name, e.Dataset));
        var certificate = (await acme.Rights.GetRightCertificateAsync(new GetRightCertificateRequest { Name = pending.Name })).Certificate;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.Record.ToByteArray())), events[^1].Details.Single(d => d.Key == "record_sha256").Value);
        Assert.Equal(approved, Right.Parser.ParseFrom(certificate.Record));
    }

    [Fact]
    public async Task Registration_is_refused_for_core_data_without_evidence_by_anyone_but_the_provider_and_for_an_overlapping_right()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);

        var core = await CatalogFixture.CreateAsync(acme, classification: Classification.Core);
        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Rights.RegisterRightAsync(new() { Parent = core.Name, Right = Asked(RightKind.Holding) }));
        Assert.Contains("CORE", refused.Status.Detail, StringComparison.Ordinal);

        var bare = Asked(RightKind.Holding);
        bare.Basis.Evidence.Clear();
        refused = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = bare }));
        Assert.Contains("evidence is required", refused.Status.Detail, StringComparison.Ordinal);

        var shortDigest = Asked(RightKind.Holding);
        shortDigest.Basis.Evidence[0].Sha256 = Google.Protobuf.ByteString.CopyFrom(new byte[20]);
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = shortDigest }));

        var licence = Asked(RightKind.Holding);
        licence.Basis.Kind = RightBasisKind.License;
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = licence }));

        // Another provider does not see acme's draft at all; a dataset it sees but does not provide is PERMISSION_DENIED, logged.
        await Rpc.FailsWith(StatusCode.NotFound, globex.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = Asked(RightKind.Holding) }));
        var listed = await acme.ApprovedAsync(ops, dataset.Name, RightKind.ProductOperation);
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = Asked(RightKind.Holding) }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = Asked(RightKind.Holding) }));
        var denials = (await ops.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset.Name, Action = "right.register" })).Events
            .Where(e => e.Outcome == AuditOutcome.Denied).Select(e => e.Actor);
        Assert.Equal(["globex", "initech"], denials.Order());

        // The same kind again, while the first is active: ALREADY_EXISTS naming it.
        var again = await Rpc.FailsWith(StatusCode.AlreadyExists, acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = Asked(RightKind.ProductOperation) }));
        Assert.Contains(listed.Name, again.Status.Detail, StringComparison.Ordinal);

        // Held by another after a transfer: ALREADY_EXISTS naming the right and its holder.
        var holding = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding);
        await acme.Rights.TransferRightAsync(new TransferRightRequest { Name = holding.Name, NewHolder = "globex" });
        await globex.Rights.AcceptRightTransferAsync(new AcceptRightTransferRequest { Name = holding.Name });
        var theirs = await Rpc.FailsWith(StatusCode.AlreadyExists, acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = Asked(RightKind.Holding) }));
        Assert.Contains(holding.Name, theirs.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("held by globex", theirs.Status.Detail, StringComparison.Ordinal);

        // After the other ends, a new registration of the kind is accepted.
        await globex.Rights.CancelRightAsync(new CancelRightRequest { Name = holding.Name });
        Assert.Equal(RightState.Pending, (await acme.RegisterAsync(dataset.Name, RightKind.Holding)).State);
    }

    [Fact]
    public async Task An_open_objection_blocks_approval_until_dismissed_and_an_upheld_one_rejects_the_registration()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var auditor = Gateway.As(Participant.Auditor);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding);

        // Anyone may see a right under notice and object, but not the holder, an auditor or the reviewer.
        await Rpc.FailsWith(StatusCode.PermissionDenied, acme.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "mine" }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, auditor.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "x" }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = " " }));
        var filed = await globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "we collected these readings" });
        Assert.Equal(RightObjectionState.Open, filed.Objection.State);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "again" }));

        var blocked = await Rpc.FailsWith(StatusCode.FailedPrecondition, ops.Rights.ApproveRightAsync(new() { Name = pending.Name }));
        Assert.Contains(filed.Objection.Name, blocked.Status.Detail, StringComparison.Ordinal);
        await Rpc.FailsWith(StatusCode.PermissionDenied,
            acme.Rights.ResolveRightObjectionAsync(new() { Name = filed.Objection.Name, Uphold = false, Reason = "not theirs" }));

        var dismissed = (await ops.Rights.ResolveRightObjectionAsync(new() { Name = filed.Objection.Name, Uphold = false, Reason = "the logs show acme's sensors" })).Right;
        Assert.Equal(RightObjectionState.Dismissed, dismissed.Objections.Single().State);
        Assert.Equal(RightState.Active, (await ops.Rights.ApproveRightAsync(new() { Name = pending.Name })).Right.State);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "late" }));

        // Upheld: the registration is rejected with the objection's reason, and cannot then be approved.
        var second = await acme.RegisterAsync(dataset.Name, RightKind.ProcessingUse);
        var objection = (await initech.Rights.FileRightObjectionAsync(new() { Name = second.Name, Reason = "the stations are ours" })).Objection;
        var rejected = (await ops.Rights.ResolveRightObjectionAsync(new() { Name = objection.Name, Uphold = true, Reason = "initech's deed" })).Right;
        Assert.Equal(RightState.Rejected, rejected.State);
        Assert.Contains("the stations are ours", rejected.DecisionReason, StringComparison.Ordinal);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, ops.Rights.ApproveRightAsync(new() { Name = second.Name }));
        await Rpc.FailsWith(StatusCode.FailedPrecondition,
            ops.Rights.ResolveRightObjectionAsync(new() { Name = objection.Name, Uphold = false, Reason = "again" }));
        await Rpc.FailsWith(StatusCode.NotFound, ops.Rights.ResolveRightObjectionAsync(new() { Name = second.Name + "/objections/nope", Reason = "x" }));
    }

    [Fact]
    public async Task A_reviewer_rejects_with_a_reason_and_only_a_reviewer_approves()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var auditor = Gateway.As(Participant.Auditor);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding);

        await Rpc.FailsWith(StatusCode.PermissionDenied, acme.Rights.ApproveRightAsync(new() { Name = pending.Name }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, auditor.Rights.ApproveRightAsync(new() { Name = pending.Name }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, ops.Rights.RejectRightAsync(new() { Name = pending.Name }));
        var rejected = (await ops.Rights.RejectRightAsync(new() { Name = pending.Name, Reason = "the consent form is unsigned" })).Right;
        Assert.Equal(RightState.Rejected, rejected.State);
        Assert.Equal("the consent form is unsigned", rejected.DecisionReason);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, ops.Rights.RejectRightAsync(new() { Name = pending.Name, Reason = "twice" }));
        await Rpc.FailsWith(StatusCode.NotFound, ops.Rights.GetRightAsync(new() { Name = dataset.Name + "/rights/missing" }));
    }

    [Fact]
    public async Task A_holder_licenses_a_narrower_right_which_cannot_be_transferred_and_ends_with_its_source()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var holding = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding, ["research", "forecasting"], NextYear);

        LicenseRightRequest Licence(string[] purposes, DateTimeOffset? end = null) => new()
        {
            Name = holding.Name,
            Licensee = "initech",
            Kind = RightKind.ProcessingUse,
            Scope = new RightScope { Purposes = { purposes } },
            EndTime = end is { } e ? Timestamp.FromDateTimeOffset(e) : null,
        };

        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.LicenseRightAsync(Licence(["research"])));
        var wider = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.LicenseRightAsync(Licence(["research", "marketing"])));
        Assert.Contains("only narrow", wider.Status.Detail, StringComparison.Ordinal);
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.LicenseRightAsync(Licence(["research"], NextYear.AddDays(1))));
        var holdingLicence = Licence(["research"]);
        holdingLicence.Kind = RightKind.Holding;
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.LicenseRightAsync(holdingLicence));

        var licence = (await acme.Rights.LicenseRightAsync(Licence(["research"]))).Right;
        Assert.Equal(RightState.Active, licence.State);
        Assert.Equal("initech", licence.Holder);
        Assert.Equal("acme", licence.Registrant);
        Assert.Equal(RightBasisKind.License, licence.Basis.Kind);
        Assert.Equal(holding.Name, licence.Basis.LicensedFrom);
        Assert.Equal(holding.EndTime, licence.EndTime);

        // A licence is not licensed on, nor transferred; the licensee sees it among its rights.
        var onward = licence.Name;
        await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Rights.LicenseRightAsync(new() { Name = onward, Licensee = "umbrella", Kind = RightKind.ProcessingUse }));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Rights.TransferRightAsync(new() { Name = onward, NewHolder = "umbrella" }));
        var held = (await initech.Rights.ListRightsAsync(new ListRightsRequest { Holder = "initech", Parent = dataset.Name })).Rights;
        Assert.Equal([licence.Name], held.Select(r => r.Name));

        // Renewal of a licence is the licensor's; cancelling the source cancels the licence with it.
        await Rpc.FailsWith(StatusCode.PermissionDenied,
            initech.Rights.RenewRightAsync(new() { Name = licence.Name, EndTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) }));
        await Rpc.FailsWith(StatusCode.InvalidArgument,
            acme.Rights.RenewRightAsync(new() { Name = licence.Name, EndTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(10)) }));
        await acme.Rights.CancelRightAsync(new CancelRightRequest { Name = holding.Name, Reason = "sold the stations" });
        var ended = await initech.GetAsync(licence);
        Assert.Equal(RightState.Cancelled, ended.State);
        Assert.Contains(holding.Name, ended.DecisionReason, StringComparison.Ordinal);
        Assert.Contains("right.cancel", (await EventsAsync(ops, licence.Name)).Select(e => e.Action));
    }

    [Fact]
    public async Task A_transfer_needs_the_holder_to_offer_and_the_new_holder_to_accept()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var holding = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding);

        await Rpc.FailsWith(StatusCode.FailedPrecondition, globex.Rights.AcceptRightTransferAsync(new() { Name = holding.Name }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.TransferRightAsync(new() { Name = holding.Name, NewHolder = "globex" }));
        var offered = (await acme.Rights.TransferRightAsync(new() { Name = holding.Name, NewHolder = "globex" })).Right;
        Assert.Equal("globex", offered.PendingHolder);
        Assert.Equal("acme", offered.Holder);

        // Only the participant offered it accepts; the holder may withdraw the offer until then.
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Rights.AcceptRightTransferAsync(new() { Name = holding.Name }));
        Assert.Equal("", (await acme.Rights.TransferRightAsync(new() { Name = holding.Name })).Right.PendingHolder);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, globex.Rights.AcceptRightTransferAsync(new() { Name = holding.Name }));

        await acme.Rights.TransferRightAsync(new() { Name = holding.Name, NewHolder = "globex" });
        var accepted = (await globex.Rights.AcceptRightTransferAsync(new() { Name = holding.Name })).Right;
        Assert.Equal("globex", accepted.Holder);
        Assert.Equal("", accepted.PendingHolder);

        // The old holder no longer acts on it; the new one does, and both sides' steps are logged.
        await Rpc.FailsWith(StatusCode.PermissionDenied, acme.Rights.CancelRightAsync(new() { Name = holding.Name }));
        var actions = (await EventsAsync(ops, holding.Name)).Select(e => (e.Action, e.Actor));
        Assert.Contains(("right.transfer_offer", "acme"), actions);
        Assert.Contains(("right.transfer_accept", "globex"), actions);
        Assert.Equal(RightState.Cancelled, (await globex.Rights.CancelRightAsync(new() { Name = holding.Name })).Right.State);
    }

    [Fact]
    public async Task A_change_is_reviewed_while_the_right_stays_in_force_as_it_was_and_a_renewal_moves_the_end()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var right = await acme.ApprovedAsync(ops, dataset.Name, RightKind.ProductOperation, ["research"], NextYear);

        var change = new RightChange { Scope = new RightScope { Purposes = { "research", "teaching" } }, EndTime = Timestamp.FromDateTimeOffset(NextYear) };
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.ChangeRightAsync(new() { Name = right.Name, Change = change }));
        var proposed = (await acme.Rights.ChangeRightAsync(new() { Name = right.Name, Change = change })).Right;
        Assert.Equal(RightState.Active, proposed.State);
        Assert.Equal(["research"], proposed.Scope.Purposes);
        Assert.Equal(["research", "teaching"], proposed.PendingChange.Scope.Purposes);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Rights.ChangeRightAsync(new() { Name = right.Name, Change = change }));

        // Under review it may be objected to, like a registration; approval applies it.
        await globex.Rights.FileRightObjectionAsync(new() { Name = right.Name, Reason = "teaching is ours" });
        var objection = (await acme.GetAsync(right)).Objections.Single();
        await ops.Rights.ResolveRightObjectionAsync(new() { Name = objection.Name, Reason = "no basis" });
        var applied = (await ops.Rights.ApproveRightAsync(new() { Name = right.Name })).Right;
        Assert.Equal(["research", "teaching"], applied.Scope.Purposes);
        Assert.Null(applied.PendingChange);

        // A rejected change leaves the right as it was.
        var narrower = new RightChange { Scope = new RightScope { Purposes = { "teaching" } }, EndTime = Timestamp.FromDateTimeOffset(NextYear) };
        await acme.Rights.ChangeRightAsync(new() { Name = right.Name, Change = narrower });
        var kept = (await ops.Rights.RejectRightAsync(new() { Name = right.Name, Reason = "no reason to narrow" })).Right;
        Assert.Equal(RightState.Active, kept.State);
        Assert.Equal(["research", "teaching"], kept.Scope.Purposes);

        var later = Timestamp.FromDateTimeOffset(NextYear.AddYears(1));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.RenewRightAsync(new() { Name = right.Name, EndTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.RenewRightAsync(new() { Name = right.Name, EndTime = later }));
        Assert.Equal(later, (await acme.Rights.RenewRightAsync(new() { Name = right.Name, EndTime = later })).Right.EndTime);
    }

    [Fact]
    public async Task Cancellation_is_the_holders_or_an_operators_with_a_reason()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var right = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding);

        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Rights.CancelRightAsync(new() { Name = right.Name, Reason = "mine" }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, ops.Rights.CancelRightAsync(new() { Name = right.Name }));
        var cancelled = (await ops.Rights.CancelRightAsync(new() { Name = right.Name, Reason = "court order 2026/17" })).Right;
        Assert.Equal(RightState.Cancelled, cancelled.State);
        Assert.Equal("court order 2026/17", cancelled.DecisionReason);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Rights.CancelRightAsync(new() { Name = right.Name }));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Rights.TransferRightAsync(new() { Name = right.Name, NewHolder = "globex" }));
    }

    [Fact]
    public async Task Publishing_and_approving_need_a_product_operation_right_that_covers_the_purposes_and_term()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);

        var unlicensed = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name }));
        Assert.Contains("product-operation right", unlicensed.Status.Detail, StringComparison.Ordinal);

        // A holding right, or a product-operation right still under review, does not do.
        await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.ProductOperation, ["research"], NextYear);
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name }));
        await ops.Rights.ApproveRightAsync(new() { Name = pending.Name });
        Assert.Equal(DatasetState.Listed, (await acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name })).Dataset.State);

        // The approval's purposes and term must lie within the right.
        var marketing = await initech.RequestAsync(dataset, "marketing", new Terms { Purposes = { "marketing" }, ExpireTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) });
        var uncovered = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.ApproveAccessRequestAsync(new() { Name = marketing.Name }));
        Assert.Contains(pending.Name, uncovered.Status.Detail, StringComparison.Ordinal);
        await initech.Access.WithdrawAccessRequestAsync(new() { Name = marketing.Name });

        var endless = await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" } });
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.ApproveAccessRequestAsync(new() { Name = endless.Name }));
        var narrowed = await acme.ApproveAsync(endless, new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) });
        Assert.Equal(GrantState.Active, narrowed.State);

        // Once the right ends, the provider grants nothing more.
        await acme.Rights.CancelRightAsync(new() { Name = pending.Name });
        var late = await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) });
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.ApproveAccessRequestAsync(new() { Name = late.Name }));
    }

    [Fact]
    public async Task A_licensed_product_operation_right_lets_its_holder_publish_and_its_cancellation_stops_approvals()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);

        // acme sold the holding to globex, which licenses product operation back to acme for research.
        var holding = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding, end: NextYear);
        await acme.Rights.TransferRightAsync(new() { Name = holding.Name, NewHolder = "globex" });
        await globex.Rights.AcceptRightTransferAsync(new() { Name = holding.Name });
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name }));
        var licence = (await globex.Rights.LicenseRightAsync(new()
        {
            Name = holding.Name,
            Licensee = "acme",
            Kind = RightKind.ProductOperation,
            Scope = new RightScope { Purposes = { "research" } },
        })).Right;
        Assert.Equal(DatasetState.Listed, (await acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name })).Dataset.State);

        var asked = await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(NextYear.AddDays(-1)) });
        await ops.Rights.CancelRightAsync(new() { Name = licence.Name, Reason = "licence fee unpaid" });
        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Access.ApproveAccessRequestAsync(new() { Name = asked.Name }));
        Assert.Contains("product-operation right", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_licence_is_changed_by_its_licensor_only_and_a_change_is_checked_again_when_approved()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var holding = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding, ["research", "marketing"], NextYear);
        var licence = (await acme.Rights.LicenseRightAsync(new()
        {
            Name = holding.Name,
            Licensee = "initech",
            Kind = RightKind.ProcessingUse,
            Scope = new RightScope { Purposes = { "research" } },
        })).Right;

        // The licensee may not widen its own licence; the licensor may change it, within its own right.
        var wider = new RightChange { Scope = new RightScope { Purposes = { "research", "marketing" } }, EndTime = holding.EndTime };
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Rights.ChangeRightAsync(new() { Name = licence.Name, Change = wider }));
        var beyond = new RightChange { Scope = new RightScope { Purposes = { "research", "teaching" } }, EndTime = holding.EndTime };
        await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Rights.ChangeRightAsync(new() { Name = licence.Name, Change = beyond }));
        Assert.Equal(["research", "marketing"], (await acme.Rights.ChangeRightAsync(new() { Name = licence.Name, Change = wider })).Right.PendingChange.Scope.Purposes);
        await ops.Rights.RejectRightAsync(new() { Name = licence.Name, Reason = "not now" });

        // The holder narrows its right, then licenses marketing while the old scope holds: approving the change would leave that licence outside.
        var narrower = new RightChange { Scope = new RightScope { Purposes = { "research" } }, EndTime = holding.EndTime };
        await acme.Rights.ChangeRightAsync(new() { Name = holding.Name, Change = narrower });
        await acme.Rights.LicenseRightAsync(new()
        {
            Name = holding.Name,
            Licensee = "globex",
            Kind = RightKind.ProcessingUse,
            Scope = new RightScope { Purposes = { "marketing" } },
        });
        var outside = await Rpc.FailsWith(StatusCode.FailedPrecondition, ops.Rights.ApproveRightAsync(new() { Name = holding.Name }));
        Assert.Contains("would no longer lie within", outside.Status.Detail, StringComparison.Ordinal);

        // A change may not reach back before the right held.
        var backdated = new RightChange { StartTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddYears(-1)), EndTime = holding.EndTime };
        await ops.Rights.RejectRightAsync(new() { Name = holding.Name, Reason = "no" });
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Rights.ChangeRightAsync(new() { Name = holding.Name, Change = backdated }));
    }

    [Fact]
    public async Task A_renewal_or_change_may_not_run_into_another_holders_registration()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var first = await acme.ApprovedAsync(ops, dataset.Name, RightKind.Holding, end: NextYear);
        await acme.Rights.TransferRightAsync(new() { Name = first.Name, NewHolder = "globex" });
        await globex.Rights.AcceptRightTransferAsync(new() { Name = first.Name });

        var later = Asked(RightKind.Holding, end: NextYear.AddYears(1));
        later.StartTime = Timestamp.FromDateTimeOffset(NextYear);
        var second = (await acme.Rights.RegisterRightAsync(new() { Parent = dataset.Name, Right = later })).Right;
        await ops.Rights.ApproveRightAsync(new() { Name = second.Name });

        var renewal = await Rpc.FailsWith(StatusCode.AlreadyExists,
            globex.Rights.RenewRightAsync(new() { Name = first.Name, EndTime = Timestamp.FromDateTimeOffset(NextYear.AddMonths(6)) }));
        Assert.Contains(second.Name, renewal.Status.Detail, StringComparison.Ordinal);
        await Rpc.FailsWith(StatusCode.AlreadyExists, globex.Rights.ChangeRightAsync(new()
        {
            Name = first.Name,
            Change = new RightChange { EndTime = Timestamp.FromDateTimeOffset(NextYear.AddMonths(6)) },
        }));
    }

    [Fact]
    public async Task A_dismissed_objector_does_not_hold_up_the_same_review_again()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding, end: NextYear);
        var objection = (await globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "ours" })).Objection;
        await ops.Rights.ResolveRightObjectionAsync(new() { Name = objection.Name, Reason = "no basis" });
        var again = await Rpc.FailsWith(StatusCode.FailedPrecondition, globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "still ours" }));
        Assert.Contains("dismissed", again.Status.Detail, StringComparison.Ordinal);
        await ops.Rights.ApproveRightAsync(new() { Name = pending.Name });

        // A change is a new review, open to objection again.
        var change = new RightChange { Scope = new RightScope { Purposes = { "research" } }, EndTime = Timestamp.FromDateTimeOffset(NextYear) };
        await acme.Rights.ChangeRightAsync(new() { Name = pending.Name, Change = change });
        Assert.Equal(2, (await globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "research is ours" })).Objection.Review);
    }

    [Fact]
    public async Task Automatic_approval_waits_for_the_provider_when_its_right_does_not_cover_the_request()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        await acme.ApprovedAsync(ops, dataset.Name, RightKind.ProductOperation, ["research"], NextYear);
        await acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name });
        await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = dataset.Name, AutoApprovalTerms = new Terms { Purposes = { "research" } } },
            UpdateMask = new FieldMask { Paths = { "auto_approval_terms" } },
        });

        // The automatic terms have no end; the right ends next year: the provider decides.
        var request = await initech.RequestAsync(dataset, "research");
        Assert.Equal(AccessRequestState.Pending, request.State);
        Assert.Contains("product-operation right", request.DecisionReason, StringComparison.Ordinal);
    }

    private static async Task<List<AuditEvent>> EventsAsync(Exchange.Client.ExchangeClient client, string right)
    {
        var dataset = right[..right.IndexOf("/rights/", StringComparison.Ordinal)];
        var events = (await client.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Dataset = dataset, PageSize = 1000 })).Events;
        return events.Where(e => e.Resource == right && e.Outcome == AuditOutcome.Success).ToList();
    }
}
