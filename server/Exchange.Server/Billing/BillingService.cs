using Exchange.Server.Observability;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Billing;

/// <summary>exchange.v1.BillingService: statements, periods and settlements, read from and decided on <see cref="BillingStore"/>.</summary>
internal sealed class BillingService(BillingStore store, PageTokens pageTokens, ExchangeTelemetry telemetry) : V1.BillingService.BillingServiceBase
{
    public override async Task<GetStatementResponse> GetStatement(GetStatementRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var name = StatementName.Parse(request.Name);
        if (!BillingPolicy.CanReadStatement(caller, name.Participant))
        {
            throw Errors.PermissionDenied($"'{name.Name}' is {name.Participant}'s statement; a participant reads its own (auditors and operators, anyone's).");
        }

        var pageSize = PageSize.Resolve(request.PageSize, 100, 1000);
        var scope = string.Join('\n', "GetStatement", caller.Participant, name.Name);
        var (statement, next) = await store.StatementAsync(name, pageTokens.Decode(request.PageToken, scope), pageSize, context.CancellationToken);
        return new GetStatementResponse { Statement = statement, NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
    }

    public override async Task<GetBillingPeriodResponse> GetBillingPeriod(GetBillingPeriodRequest request, ServerCallContext context) =>
        new() { Period = await store.PeriodAsync(PeriodName.Parse(request.Name), context.CancellationToken) };

    public override async Task<CloseBillingPeriodResponse> CloseBillingPeriod(CloseBillingPeriodRequest request, ServerCallContext context)
    {
        var name = PeriodName.Parse(request.Name);
        var (period, settlements) = Errors.Allowed(await store.CloseAsync(Caller.From(context), name, context.CancellationToken), telemetry);
        var response = new CloseBillingPeriodResponse { Period = period };
        response.Settlements.Add(settlements);
        return response;
    }

    public override async Task<ListSettlementsResponse> ListSettlements(ListSettlementsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var period = PeriodName.Parse(request.Parent, "parent");
        var pageSize = PageSize.Resolve(request.PageSize, 100, 1000);
        var scope = string.Join('\n', "ListSettlements", caller.Participant, period.Name);
        var (page, next) = await store.SettlementsAsync(caller, period, pageTokens.Decode(request.PageToken, scope), pageSize, context.CancellationToken);
        var response = new ListSettlementsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Settlements.Add(page);
        return response;
    }

    public override async Task<MarkSettlementPaidResponse> MarkSettlementPaid(MarkSettlementPaidRequest request, ServerCallContext context)
    {
        var name = SettlementName.Parse(request.Name);
        var reference = request.PaymentReference.Trim();
        if (reference.Length is 0 or > 200)
        {
            throw Errors.InvalidArgument("payment_reference is required (1-200 characters): the payment's reference where the money moved.");
        }

        var settlement = await store.MarkPaidAsync(Caller.From(context), name, reference, context.CancellationToken);
        return new MarkSettlementPaidResponse { Settlement = Errors.Allowed(settlement, telemetry) };
    }

    public override async Task<ReverseChargeResponse> ReverseCharge(ReverseChargeRequest request, ServerCallContext context)
    {
        var usage = UsageName.Parse(request.Name);
        var reason = request.Reason.Trim();
        if (reason.Length == 0)
        {
            throw Errors.InvalidArgument("reason is required: both parties read why a charge was reversed.");
        }

        var reversal = await store.ReverseAsync(Caller.From(context), usage, reason, context.CancellationToken);
        return new ReverseChargeResponse { Reversal = Errors.Allowed(reversal, telemetry) };
    }
}
