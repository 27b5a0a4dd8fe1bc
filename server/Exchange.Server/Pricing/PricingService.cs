using Exchange.Server.Catalog;
using Exchange.Server.Observability;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Pricing;

/// <summary>exchange.v1.PricingService: validates each request, runs it on <see cref="PricingStore"/> and prices quotes with <see cref="Quotes"/>.</summary>
internal sealed class PricingService(PricingStore store, ICatalog catalog, RevisionStore revisions, TimeProvider time, ExchangeTelemetry telemetry)
    : V1.PricingService.PricingServiceBase
{
    public override async Task<CreateOfferResponse> CreateOffer(CreateOfferRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var dataset = DatasetId.Parse(request.Parent, "parent");
        var offer = request.Offer ?? throw Errors.InvalidArgument("offer is required: its kind and price.");
        OfferValidation.Validate(offer, "offer");
        IdempotencyKeys.Validate(request.RequestId);
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");
        var created = await store.CreateAsync(caller, dataset, offer, request.RequestId, fingerprint, context.CancellationToken);
        return new CreateOfferResponse { Offer = Errors.Allowed(created, telemetry) };
    }

    public override async Task<GetOfferResponse> GetOffer(GetOfferRequest request, ServerCallContext context)
    {
        var name = OfferName.Parse(request.Name);
        return new GetOfferResponse { Offer = await store.GetAsync(Caller.From(context), name, context.CancellationToken) ?? throw Errors.NotFound(request.Name) };
    }

    public override async Task<ListOffersResponse> ListOffers(ListOffersRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var dataset = DatasetId.Parse(request.Parent, "parent");
        var (offers, demand) = await store.ListAsync(caller, dataset, request.ShowWithdrawn, time.GetUtcNow(), context.CancellationToken)
            ?? throw Errors.NotFound(request.Parent);
        var response = new ListOffersResponse { Demand = demand, Quality = (await LatestAsync(caller, dataset, context.CancellationToken))?.Table?.Report };
        response.Offers.Add(offers);
        return response;
    }

    public override async Task<WithdrawOfferResponse> WithdrawOffer(WithdrawOfferRequest request, ServerCallContext context)
    {
        var name = OfferName.Parse(request.Name);
        var withdrawn = await store.WithdrawAsync(Caller.From(context), name, context.CancellationToken);
        return new WithdrawOfferResponse { Offer = Errors.Allowed(withdrawn, telemetry) };
    }

    public override async Task<QuoteAccessResponse> QuoteAccess(QuoteAccessRequest request, ServerCallContext context)
    {
        var name = OfferName.Parse(request.Offer, "offer");
        if (request.Periods < 0 || request.Periods > 36 * 100 || request.Units < 0)
        {
            throw Errors.InvalidArgument("periods (0: one, at most 3600) and units (0: one) may not be negative.");
        }

        var caller = Caller.From(context);
        var offer = await store.GetAsync(caller, name, context.CancellationToken) ?? throw Errors.NotFound(request.Offer);
        if (offer.State != OfferState.Active)
        {
            throw Errors.FailedPrecondition($"'{request.Offer}' was withdrawn; it can no longer be accepted.");
        }

        var bytes = offer.Kind == OfferKind.PerGib ? (await LatestAsync(caller, name.Dataset, context.CancellationToken))?.SizeBytes ?? 0 : 0;
        var (total, lines) = Quotes.Price(offer, request.Units == 0 ? 1 : request.Units, request.Periods == 0 ? 1 : request.Periods, bytes);
        var response = new QuoteAccessResponse { Offer = offer, Total = total };
        response.Lines.Add(lines);
        return response;
    }

    /// <summary>The dataset's latest revision, read (not written) like any catalog read.</summary>
    private async Task<Catalog.Model.Revision?> LatestAsync(Caller caller, DatasetId dataset, CancellationToken cancellationToken) =>
        await catalog.GetVisibleAsync(dataset, caller, cancellationToken) is { LatestRevision: > 0 } found
            ? await revisions.GetAsync(new RevisionId(dataset, found.LatestRevision), cancellationToken)
            : null;
}
