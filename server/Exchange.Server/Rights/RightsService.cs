using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Observability;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Rights;

/// <summary>
/// exchange.v1.RightsService: validates each request, runs the registry operation
/// (<see cref="RightsStore"/>, under <see cref="RightsPolicy"/>) and answers with the right as it now stands.
/// </summary>
internal sealed class RightsService(RightsStore store, AuditStore audit, CheckpointSigner signer, PageTokens pageTokens, TimeProvider time,
    ExchangeTelemetry telemetry)
    : V1.RightsService.RightsServiceBase
{
    public override async Task<RegisterRightResponse> RegisterRight(RegisterRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var dataset = DatasetId.Parse(request.Parent, "parent");
        var right = request.Right ?? throw Errors.InvalidArgument("right is required: its kind, basis with evidence, scope and validity.");
        RightValidation.ValidateKind(right.Kind, "right.kind");
        RightValidation.ValidateBasis(right.Basis, "right.basis");
        RightValidation.ValidateScope(right.Scope, "right.scope");
        RightValidation.ValidateValidity(right.StartTime, right.EndTime, "right", time.GetUtcNow());
        IdempotencyKeys.Validate(request.RequestId);
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");
        var registered = await store.RegisterAsync(caller, dataset, right, request.RequestId, fingerprint, context.CancellationToken);
        return new RegisterRightResponse { Right = Errors.Allowed(registered, telemetry) };
    }

    public override async Task<GetRightResponse> GetRight(GetRightRequest request, ServerCallContext context)
    {
        var name = RightName.Parse(request.Name);
        return new GetRightResponse { Right = await store.GetAsync(name, context.CancellationToken) ?? throw Errors.Missing(request.Name) };
    }

    public override async Task<ListRightsResponse> ListRights(ListRightsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize);
        DatasetId? dataset = request.Parent.Length == 0 ? null : DatasetId.Parse(request.Parent, "parent");
        if (request.Holder.Length > 0 && !ParticipantId.IsValid(request.Holder))
        {
            throw Errors.InvalidArgument($"holder '{request.Holder}' is not a participant id ({ParticipantId.Rule}).");
        }

        if (!Enum.IsDefined(request.Kind) || !Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument("kind or state is not a known value.");
        }

        var scope = string.Join('\n', "ListRights", caller.Participant, request.Parent, request.Holder, (int)request.Kind, (int)request.State);
        var (page, next) = await store.ListAsync(dataset, request.Holder.Length == 0 ? null : request.Holder, request.Kind, request.State,
            pageTokens.Decode(request.PageToken, scope), pageSize, context.CancellationToken);
        var response = new ListRightsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Rights.Add(page);
        return response;
    }

    public override async Task<FileRightObjectionResponse> FileRightObjection(FileRightObjectionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        var reason = RequireReason(request.Reason, "object");
        var (right, objection) = Errors.Allowed(await store.ObjectAsync(caller, name, reason, context.CancellationToken), telemetry);
        return new FileRightObjectionResponse { Right = right, Objection = objection };
    }

    public override async Task<ResolveRightObjectionResponse> ResolveRightObjection(ResolveRightObjectionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var (name, objection) = RightName.ParseObjection(request.Name);
        var reason = RequireReason(request.Reason, request.Uphold ? "uphold an objection" : "dismiss an objection");
        var resolved = await store.ResolveObjectionAsync(caller, name, objection, request.Uphold, reason, context.CancellationToken);
        return new ResolveRightObjectionResponse { Right = Errors.Allowed(resolved, telemetry) };
    }

    public override async Task<ApproveRightResponse> ApproveRight(ApproveRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        return new ApproveRightResponse { Right = Errors.Allowed(await store.ApproveAsync(caller, name, context.CancellationToken), telemetry) };
    }

    public override async Task<RejectRightResponse> RejectRight(RejectRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        var reason = RequireReason(request.Reason, "reject");
        return new RejectRightResponse { Right = Errors.Allowed(await store.RejectAsync(caller, name, reason, context.CancellationToken), telemetry) };
    }

    public override async Task<LicenseRightResponse> LicenseRight(LicenseRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        if (!ParticipantId.IsValid(request.Licensee))
        {
            throw Errors.InvalidArgument($"licensee '{request.Licensee}' is not a participant id ({ParticipantId.Rule}).");
        }

        if (request.Kind is not (RightKind.ProcessingUse or RightKind.ProductOperation))
        {
            throw Errors.InvalidArgument("kind must be PROCESSING_USE or PRODUCT_OPERATION: a holding right is not licensed, it is transferred.");
        }

        RightValidation.ValidateScope(request.Scope, "scope");
        RightValidation.ValidateValidity(request.StartTime, request.EndTime, "licence", time.GetUtcNow());
        IdempotencyKeys.Validate(request.RequestId);
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");
        var licensed = await store.LicenseAsync(caller, name, request.Licensee, request.Kind, request.Scope, request.StartTime, request.EndTime,
            request.RequestId, fingerprint, context.CancellationToken);
        return new LicenseRightResponse { Right = Errors.Allowed(licensed, telemetry) };
    }

    public override async Task<TransferRightResponse> TransferRight(TransferRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        if (request.NewHolder.Length > 0 && !ParticipantId.IsValid(request.NewHolder))
        {
            throw Errors.InvalidArgument($"new_holder '{request.NewHolder}' is not a participant id ({ParticipantId.Rule}).");
        }

        var offered = await store.OfferAsync(caller, name, request.NewHolder, context.CancellationToken);
        return new TransferRightResponse { Right = Errors.Allowed(offered, telemetry) };
    }

    public override async Task<AcceptRightTransferResponse> AcceptRightTransfer(AcceptRightTransferRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        return new AcceptRightTransferResponse { Right = Errors.Allowed(await store.AcceptAsync(caller, name, context.CancellationToken), telemetry) };
    }

    public override async Task<ChangeRightResponse> ChangeRight(ChangeRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        var change = request.Change ?? throw Errors.InvalidArgument("change is required: the scope and validity the right should have.");
        RightValidation.ValidateScope(change.Scope, "change.scope");
        RightValidation.ValidateValidity(change.StartTime, change.EndTime, "change", time.GetUtcNow());
        return new ChangeRightResponse { Right = Errors.Allowed(await store.ChangeAsync(caller, name, change, context.CancellationToken), telemetry) };
    }

    public override async Task<RenewRightResponse> RenewRight(RenewRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        if (request.EndTime is null)
        {
            throw Errors.InvalidArgument("end_time is required: the right's new end.");
        }

        RightValidation.ValidateValidity(null, request.EndTime, "renewal", time.GetUtcNow());
        return new RenewRightResponse { Right = Errors.Allowed(await store.RenewAsync(caller, name, request.EndTime, context.CancellationToken), telemetry) };
    }

    public override async Task<CancelRightResponse> CancelRight(CancelRightRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = RightName.Parse(request.Name);
        var cancelled = await store.CancelAsync(caller, name, request.Reason.Trim(), context.CancellationToken);
        return new CancelRightResponse { Right = Errors.Allowed(cancelled, telemetry) };
    }

    public override async Task<GetRightCertificateResponse> GetRightCertificate(GetRightCertificateRequest request, ServerCallContext context)
    {
        var name = RightName.Parse(request.Name);
        var (record, indexes) = await store.CertificateAsync(name, context.CancellationToken) ?? throw Errors.Missing(request.Name);
        var (checkpoint, events, proofs) = await audit.ProveAsync(indexes, signer, context.CancellationToken);
        var certificate = new RightCertificate { Record = ByteString.CopyFrom(record), Checkpoint = checkpoint };
        certificate.Events.Add(events);
        for (var i = 0; i < indexes.Count; i++)
        {
            var proof = new InclusionProof { Index = indexes[i], TreeSize = checkpoint.Size };
            proof.Hashes.Add(proofs[i].Select(ByteString.CopyFrom));
            certificate.Proofs.Add(proof);
        }

        return new GetRightCertificateResponse { Certificate = certificate };
    }

    private static string RequireReason(string reason, string verb)
    {
        var trimmed = reason.Trim();
        return trimmed.Length > 0
            ? trimmed
            : throw Errors.InvalidArgument($"reason is required to {verb}; the holder, the reviewer and the log see it.");
    }
}
