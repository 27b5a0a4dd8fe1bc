using Exchange.Server.Catalog;
using Exchange.Server.Observability;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Access;

/// <summary>
/// exchange.v1.AccessService: parses and validates each request, runs the access operation
/// (<see cref="AccessStore"/>, under <see cref="AccessPolicy"/>) and answers with its result.
/// </summary>
internal sealed partial class AccessService(AccessStore store, Revocations revocations, PageTokens pageTokens, TimeProvider time,
    ExchangeTelemetry telemetry, IQueryBudgets budgets, Audit.AuditStore audit, Audit.CheckpointSigner signer, ILogger<AccessService> logger)
    : V1.AccessService.AccessServiceBase
{
    public override async Task<RequestAccessResponse> RequestAccess(RequestAccessRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var datasetId = DatasetId.Parse(request.Dataset, "dataset");
        if (request.Purpose.Length == 0)
        {
            throw Errors.InvalidArgument("purpose is required: say what the data will be used for, e.g. \"research\".");
        }

        TermsValidation.ValidatePurpose(request.Purpose, "purpose");
        if (request.RequestedTerms is not null)
        {
            TermsValidation.Validate(request.RequestedTerms, "requested_terms", time.GetUtcNow());
        }

        if (request.RequestedTerms?.Offer is not null)
        {
            throw Errors.InvalidArgument("requested_terms.offer is set by the gateway from offer, the name of the offer accepted.");
        }

        IdempotencyKeys.Validate(request.RequestId);
        var terms = TermsPolicy.Normalize(request.Purpose,
            request.RequestedTerms is null ? null : TermsMapping.FromProto(request.RequestedTerms));
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");

        var requested = await store.RequestAsync(caller, datasetId, request.Purpose, terms, request.Offer.Length == 0 ? null : request.Offer,
            request.RequestId, fingerprint,
            context.CancellationToken);
        return new RequestAccessResponse { AccessRequest = Errors.Allowed(requested, telemetry).Request.ToProto() };
    }

    public override async Task<GetAccessRequestResponse> GetAccessRequest(GetAccessRequestRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = AccessRequestId.Parse(request.Name);
        var found = await store.GetRequestAsync(id, context.CancellationToken);
        if (found is null || !AccessPolicy.CanSee(caller, found))
        {
            throw Errors.NotFound(request.Name, exists: found is not null);
        }

        return new GetAccessRequestResponse { AccessRequest = found.ToProto() };
    }

    public override async Task<ListAccessRequestsResponse> ListAccessRequests(ListAccessRequestsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize);
        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known access request state.");
        }

        var query = Query("ListAccessRequests", request.Dataset, request.Consumer, (int)request.State);
        var scope = query.Scope(caller.Participant);
        var (page, next) = await store.ListRequestsAsync(query, caller, pageTokens.Decode(request.PageToken, scope), pageSize,
            context.CancellationToken);
        var response = new ListAccessRequestsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.AccessRequests.Add(page.Select(r => r.ToProto()));
        return response;
    }

    public override async Task<ApproveAccessRequestResponse> ApproveAccessRequest(ApproveAccessRequestRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = AccessRequestId.Parse(request.Name);
        if (request.Terms is not null)
        {
            TermsValidation.Validate(request.Terms, "terms", time.GetUtcNow());
        }

        var terms = request.Terms is null ? null : TermsMapping.FromProto(request.Terms);
        var (approved, grant) = Errors.Allowed(await store.ApproveAsync(caller, id, terms, context.CancellationToken), telemetry);
        return new ApproveAccessRequestResponse { AccessRequest = approved.ToProto(), Grant = grant.ToProto() };
    }

    public override async Task<RejectAccessRequestResponse> RejectAccessRequest(RejectAccessRequestRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = AccessRequestId.Parse(request.Name);
        var reason = RequireReason(request.Reason, "reject");
        var rejected = await store.RejectAsync(caller, id, reason, context.CancellationToken);
        return new RejectAccessRequestResponse { AccessRequest = Errors.Allowed(rejected, telemetry).ToProto() };
    }

    public override async Task<WithdrawAccessRequestResponse> WithdrawAccessRequest(WithdrawAccessRequestRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = AccessRequestId.Parse(request.Name);
        var withdrawn = await store.WithdrawAsync(caller, id, context.CancellationToken);
        return new WithdrawAccessRequestResponse { AccessRequest = Errors.Allowed(withdrawn, telemetry).ToProto() };
    }

    public override async Task<GetGrantResponse> GetGrant(GetGrantRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = GrantId.Parse(request.Name);
        var grant = await store.GetGrantAsync(id, time.GetUtcNow(), context.CancellationToken);
        if (grant is null || !AccessPolicy.CanSee(caller, grant))
        {
            throw Errors.NotFound(request.Name, exists: grant is not null);
        }

        return new GetGrantResponse { Grant = (await WithBudgetsAsync([grant], context.CancellationToken))[0] };
    }

    public override async Task<ListGrantsResponse> ListGrants(ListGrantsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize);
        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known grant state.");
        }

        var query = Query("ListGrants", request.Dataset, request.Consumer, (int)request.State);
        var scope = query.Scope(caller.Participant);
        var (page, next) = await store.ListGrantsAsync(query, caller, pageTokens.Decode(request.PageToken, scope), pageSize,
            time.GetUtcNow(), context.CancellationToken);
        var response = new ListGrantsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Grants.Add(await WithBudgetsAsync(page, context.CancellationToken));
        return response;
    }

    /// <summary><paramref name="grants"/> as shown, each with its privacy budget where it has one.</summary>
    private async Task<List<V1.Grant>> WithBudgetsAsync(IReadOnlyList<Model.Grant> grants, CancellationToken cancellationToken)
    {
        var budgetsOf = await budgets.BudgetsAsync(grants, cancellationToken);
        return [.. grants.Select(g =>
        {
            var shown = g.ToProto();
            if (budgetsOf.TryGetValue(g.Id, out var budget))
            {
                shown.ComputeBudget = budget.ToProto();
            }

            return shown;
        })];
    }

    public override async Task<RevokeGrantResponse> RevokeGrant(RevokeGrantRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = GrantId.Parse(request.Name);
        var reason = RequireReason(request.Reason, "revoke");
        var revoked = Errors.Allowed(await store.RevokeAsync(caller, id, reason, context.CancellationToken), telemetry);
        revocations.Revoked(id);
        return new RevokeGrantResponse { Grant = revoked.ToProto() };
    }

    public override async Task<CancelGrantRenewalResponse> CancelGrantRenewal(CancelGrantRenewalRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = GrantId.Parse(request.Name);
        var (grant, index) = Errors.Allowed(await store.CancelRenewalAsync(caller, id, context.CancellationToken), telemetry);
        var response = new CancelGrantRenewalResponse { Grant = grant.ToProto() };
        try
        {
            response.Receipt = await audit.ReceiptAsync(index, signer, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The cancellation stands; failing the call now would tell the consumer it did not.
            LogReceiptFailed(ex, index);
        }

        return response;
    }

    private static string RequireReason(string reason, string verb)
    {
        var trimmed = reason.Trim();
        if (trimmed.Length == 0)
        {
            throw Errors.InvalidArgument($"reason is required to {verb}; the consumer and the audit log see it.");
        }

        return trimmed;
    }

    private static AccessQuery Query(string method, string dataset, string consumer, int state)
    {
        DatasetId? datasetId = dataset.Length == 0 ? null : DatasetId.Parse(dataset, "dataset");
        if (consumer.Length > 0 && !ParticipantId.IsValid(consumer))
        {
            throw Errors.InvalidArgument($"consumer '{consumer}' is not a participant id ({ParticipantId.Rule}).");
        }

        return new AccessQuery(method, datasetId, consumer.Length == 0 ? null : consumer, state);
    }

    [LoggerMessage(EventId = 71, Level = LogLevel.Warning,
        Message = "A grant's renewal was cancelled as audit event {Index} but the receipt could not be made; it is answered without one")]
    private partial void LogReceiptFailed(Exception exception, long index);
}
