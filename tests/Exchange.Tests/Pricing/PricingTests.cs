using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Pricing;

/// <summary>
/// Offers and quotes: a provider prices a dataset; a consumer gets a quote, then requests under an
/// offer, whose copy the grant keeps whatever becomes of the offer; an approval may lower the price,
/// never raise it; bad prices, unknown currencies and other people's private offers are refused.
/// </summary>
public sealed class PricingTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static Offer PerGib(long minor, string currency = "NOK") =>
        new() { Kind = OfferKind.PerGib, Price = new Money { Currency = currency, AmountMinor = minor } };

    [Fact]
    public async Task Offers_are_refused_with_a_clear_status_for_bad_prices_and_unknown_currencies_and_only_the_provider_makes_them()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var initech = Gateway.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        foreach (var (bad, words) in new (Offer, string)[]
        {
            (PerGib(100, "XYZ"), "not an ISO 4217 currency"),
            (PerGib(100, "nok"), "not an ISO 4217 currency"),
            (PerGib(-1), "must be 0 to"),
            (new Offer { Kind = OfferKind.Free, Price = new Money { Currency = "EUR", AmountMinor = 5 } }, "FREE offer is 0"),
            (new Offer { Kind = OfferKind.Subscription, Price = new Money { Currency = "EUR", AmountMinor = 5 }, PeriodMonths = 37 }, "1 to 36"),
            (new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 5 }, FreeUnits = 3 }, "free_units"),
            (new Offer { Price = new Money { Currency = "EUR", AmountMinor = 5 } }, "kind is required"),
            (new Offer { Kind = OfferKind.Subscription, Price = new Money { Currency = "EUR", AmountMinor = 5 }, PeriodMonths = 1, CapMinorPerPeriod = 9 }, "caps only"),
            (new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 5 }, WithdrawTime = new Google.Protobuf.WellKnownTypes.Timestamp() },
                "set by the gateway"),
        })
        {
            var refused = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = bad }));
            Assert.Contains(words, refused.Status.Detail, StringComparison.Ordinal);
        }

        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = PerGib(100) }));
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = PerGib(100) }));
        var draft = await CatalogFixture.CreateAsync(acme);
        await Rpc.FailsWith(StatusCode.NotFound, globex.Pricing.CreateOfferAsync(new() { Parent = draft.Name, Offer = PerGib(100) }));

        // A private offer is the named participant's (and the provider's) to see; anyone else is told it does not exist.
        var mine = PerGib(50);
        mine.PrivateTo = "umbrella";
        var privateOffer = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = mine })).Offer;
        await Rpc.FailsWith(StatusCode.NotFound, initech.Pricing.GetOfferAsync(new() { Name = privateOffer.Name }));
        using var umbrella = Gateway.As(Participant.Umbrella);
        Assert.Equal(50, (await umbrella.Pricing.GetOfferAsync(new() { Name = privateOffer.Name })).Offer.Price.AmountMinor);
        Assert.DoesNotContain((await initech.Pricing.ListOffersAsync(new() { Parent = dataset.Name })).Offers, o => o.Name == privateOffer.Name);
        await Rpc.FailsWith(StatusCode.NotFound, initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = privateOffer.Name }));
    }

    [Fact]
    public async Task A_quote_prices_units_after_free_units_and_the_cap_and_a_gib_pro_rata()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        // 2^30 minor units per GiB is one minor unit per byte: the sample revision's bytes, exactly.
        var gib = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = PerGib(1L << 30) })).Offer;
        var quote = await initech.Pricing.QuoteAccessAsync(new() { Offer = gib.Name });
        Assert.Equal(CatalogFixture.SampleBytes.Length, quote.Total.AmountMinor);
        Assert.Equal("NOK", quote.Total.Currency);

        var perTransfer = new Offer
        {
            Kind = OfferKind.PerTransfer,
            Price = new Money { Currency = "EUR", AmountMinor = 250 },
            FreeUnits = 2,
            CapMinorPerPeriod = 1000,
        };
        var transfers = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = perTransfer })).Offer;
        Assert.Equal(750, (await initech.Pricing.QuoteAccessAsync(new() { Offer = transfers.Name, Units = 5 })).Total.AmountMinor);
        Assert.Equal(1000, (await initech.Pricing.QuoteAccessAsync(new() { Offer = transfers.Name, Units = 50 })).Total.AmountMinor);
        Assert.Equal(0, (await initech.Pricing.QuoteAccessAsync(new() { Offer = transfers.Name, Units = 2 })).Total.AmountMinor);

        var subscription = new Offer { Kind = OfferKind.Subscription, Price = new Money { Currency = "CNY", AmountMinor = 99_900 }, PeriodMonths = 12, AutoRenew = true };
        var yearly = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = subscription })).Offer;
        var three = await initech.Pricing.QuoteAccessAsync(new() { Offer = yearly.Name, Periods = 3 });
        Assert.Equal(299_700, three.Total.AmountMinor);
        Assert.Contains(three.Lines, l => l.Contains("renewing by itself", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_names_the_offer_it_accepts_and_the_grant_keeps_it_as_accepted_whatever_becomes_of_the_offer()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var umbrella = Gateway.As(Participant.Umbrella);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var offer = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = PerGib(12_500) })).Offer;

        var unnamed = await Rpc.FailsWith(StatusCode.FailedPrecondition, initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research" }));
        Assert.Contains(offer.Name, unnamed.Status.Detail, StringComparison.Ordinal);
        var forged = new Terms { Purposes = { "research" }, Offer = PerGib(1) };
        await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", RequestedTerms = forged }));

        var request = (await initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = offer.Name })).AccessRequest;
        Assert.Equal(offer, request.RequestedTerms.Offer);

        // The approval may lower the price, not raise it, nor swap the offer's terms.
        var dearer = offer.Clone();
        dearer.Price.AmountMinor = 20_000;
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.ApproveAccessRequestAsync(new() { Name = request.Name, Terms = new Terms { Offer = dearer } }));
        var other = offer.Clone();
        other.FreeUnits = 0;
        other.Kind = OfferKind.OneOff;
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.ApproveAccessRequestAsync(new() { Name = request.Name, Terms = new Terms { Offer = other } }));
        var discount = offer.Clone();
        discount.Price.AmountMinor = 10_000;
        var grant = await acme.ApproveAsync(request, new Terms { Offer = discount });
        Assert.Equal(10_000, grant.Terms.Offer.Price.AmountMinor);

        // Withdrawn: no new request accepts it, and the grant still has it as accepted.
        await acme.Pricing.WithdrawOfferAsync(new() { Name = offer.Name });
        var withdrawn = await Rpc.FailsWith(StatusCode.FailedPrecondition,
            umbrella.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = offer.Name }));
        Assert.Contains("withdrawn", withdrawn.Status.Detail, StringComparison.Ordinal);
        var kept = (await initech.Access.GetGrantAsync(new() { Name = grant.Name })).Grant;
        Assert.Equal(OfferState.Active, kept.Terms.Offer.State);
        Assert.Equal(10_000, kept.Terms.Offer.Price.AmountMinor);
        Assert.Equal(OfferState.Withdrawn, (await acme.Pricing.GetOfferAsync(new() { Name = offer.Name })).Offer.State);

        // With no active offer left, the dataset is free to request again; its demand shows the grant.
        Assert.Equal(AccessRequestState.Pending, (await umbrella.RequestAsync(dataset)).State);
        var listed = await umbrella.Pricing.ListOffersAsync(new() { Parent = dataset.Name, ShowWithdrawn = true });
        Assert.Equal([offer.Name], listed.Offers.Select(o => o.Name));
        Assert.Equal(1, listed.Demand.Grants);
        Assert.Equal(1, listed.Demand.Grants90Days);

        var events = (await acme.Audit.ListAuditEventsAsync(new() { Dataset = dataset.Name, Action = "access.approve" })).Events;
        Assert.Contains(events, e => e.Details.Any(d => d.Key == "price" && d.Value == "10000 NOK"));
    }

    [Fact]
    public async Task A_price_comes_only_from_an_offer_the_consumer_names_and_fits_the_kind_of_grant()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        // The provider cannot put a price into its automatic terms.
        var sneaky = new Terms { Purposes = { "research" }, Offer = PerGib(1_000_000) };
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.UpdateDatasetAsync(new()
        {
            Dataset = new Dataset { Name = dataset.Name, AutoApprovalTerms = sneaky },
            UpdateMask = new() { Paths = { "auto_approval_terms" } },
        }));

        // A per-query offer does not price downloads, and a per-GiB one does not price queries.
        var queries = (await acme.Pricing.CreateOfferAsync(new()
        {
            Parent = dataset.Name,
            Offer = new Offer { Kind = OfferKind.PerQuery, Price = new Money { Currency = "EUR", AmountMinor = 10 } },
        })).Offer;
        var gib = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = PerGib(100) })).Offer;
        await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = queries.Name }));
        var compute = new Terms { Purposes = { "research" }, Kind = GrantKind.Compute, Analysis = new AnalysisRule { Dimensions = { "station" }, MinIdentities = 1 } };
        await Rpc.FailsWith(StatusCode.InvalidArgument,
            initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = gib.Name, RequestedTerms = compute }));
        var priced = (await initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = queries.Name, RequestedTerms = compute }))
            .AccessRequest;
        Assert.Equal(queries.Name, priced.RequestedTerms.Offer.Name);
    }

    [Fact]
    public async Task A_priced_dataset_with_no_offer_open_to_a_consumer_is_not_approved_for_free_automatically()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.Catalog.UpdateDatasetAsync(new()
        {
            Dataset = new Dataset { Name = dataset.Name, AutoApprovalTerms = new Terms { Purposes = { "research" } } },
            UpdateMask = new() { Paths = { "auto_approval_terms" } },
        });
        var negotiated = PerGib(100);
        negotiated.PrivateTo = "umbrella";
        await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = negotiated });

        var request = await initech.RequestAsync(dataset);
        Assert.Equal(AccessRequestState.Pending, request.State);
        Assert.Contains("priced", request.DecisionReason, StringComparison.Ordinal);
        Assert.DoesNotContain("offers/", request.DecisionReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subscription_that_does_not_renew_grants_access_for_its_period_only()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var umbrella = Gateway.As(Participant.Umbrella);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        Offer Subscription(bool renew) =>
            new() { Kind = OfferKind.Subscription, Price = new Money { Currency = "EUR", AmountMinor = 1000 }, PeriodMonths = 3, AutoRenew = renew };
        var once = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = Subscription(renew: false) })).Offer;
        var renewing = (await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = Subscription(renew: true) })).Offer;

        var before = DateTimeOffset.UtcNow;
        var grant = await acme.ApproveAsync((await initech.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = once.Name }))
            .AccessRequest);
        Assert.InRange(grant.Terms.ExpireTime.ToDateTimeOffset(), before.AddMonths(3).AddMinutes(-1), DateTimeOffset.UtcNow.AddMonths(3));

        var lasting = await acme.ApproveAsync((await umbrella.Access.RequestAccessAsync(new() { Dataset = dataset.Name, Purpose = "research", Offer = renewing.Name }))
            .AccessRequest);
        Assert.Null(lasting.Terms.ExpireTime);
    }

    [Fact]
    public async Task Offers_list_with_the_latest_revisions_quality_report_and_demand_not_an_invented_value()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        dataset = (await acme.Catalog.PublishDatasetAsync(new() { Name = dataset.Name })).Dataset;
        await acme.Pricing.CreateOfferAsync(new() { Parent = dataset.Name, Offer = new Offer { Kind = OfferKind.Free, Price = new Money { Currency = "EUR" } } });
        var listed = await initech.Pricing.ListOffersAsync(new() { Parent = dataset.Name });
        Assert.Equal(OfferKind.Free, listed.Offers.Single().Kind);
        Assert.Equal(1, listed.Quality.RowCount);
        Assert.Equal(0, listed.Demand.Transfers);
    }
}
