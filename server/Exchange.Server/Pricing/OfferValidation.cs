using Exchange.Server.Security;
using Exchange.V1;

namespace Exchange.Server.Pricing;

/// <summary>Shape rules for an offer as a provider makes it.</summary>
internal static class OfferValidation
{
    /// <summary>The largest price or cap, in minor units: beyond any real price, and far from overflow when multiplied.</summary>
    public const long MaxAmountMinor = 1_000_000_000_000;

    public static void Validate(Offer offer, string field)
    {
        if (offer.Kind == OfferKind.Unspecified || !Enum.IsDefined(offer.Kind))
        {
            throw Errors.InvalidArgument($"{field}.kind is required: FREE, ONE_OFF, PER_TRANSFER, PER_GIB, PER_QUERY or SUBSCRIPTION.");
        }

        if (offer.Price is not { } price || !Currencies.IsKnown(price.Currency))
        {
            throw Errors.InvalidArgument(
                $"{field}.price.currency{(offer.Price is null ? " is required" : $" '{offer.Price.Currency}' is not an ISO 4217 currency")}: " +
                "a code such as NOK, EUR or CNY (a FREE offer too names one).");
        }

        if (price.AmountMinor < 0 || price.AmountMinor > MaxAmountMinor)
        {
            throw Errors.InvalidArgument($"{field}.price.amount_minor must be 0 to {MaxAmountMinor} minor units, not {price.AmountMinor}.");
        }

        if ((offer.Kind == OfferKind.Free) != (price.AmountMinor == 0))
        {
            throw Errors.InvalidArgument(offer.Kind == OfferKind.Free
                ? $"{field}.price of a FREE offer is 0."
                : $"{field}.price.amount_minor is 0; make the offer FREE instead.");
        }

        if (offer.Kind == OfferKind.Subscription ? offer.PeriodMonths is < 1 or > 36 : offer.PeriodMonths != 0)
        {
            throw Errors.InvalidArgument(offer.Kind == OfferKind.Subscription
                ? $"{field}.period_months of a subscription is 1 to 36, not {offer.PeriodMonths}."
                : $"{field}.period_months is for subscriptions only.");
        }

        if (offer.AutoRenew && offer.Kind != OfferKind.Subscription)
        {
            throw Errors.InvalidArgument($"{field}.auto_renew is for subscriptions only.");
        }

        if (offer.FreeUnits < 0 || (offer.FreeUnits > 0 && offer.Kind is not (OfferKind.PerTransfer or OfferKind.PerGib or OfferKind.PerQuery)))
        {
            throw Errors.InvalidArgument($"{field}.free_units is 0 or more, and only for PER_TRANSFER, PER_GIB and PER_QUERY offers.");
        }

        if (offer.CapMinorPerPeriod < 0 || offer.CapMinorPerPeriod > MaxAmountMinor ||
            (offer.CapMinorPerPeriod > 0 && offer.Kind is not (OfferKind.PerTransfer or OfferKind.PerGib or OfferKind.PerQuery)))
        {
            throw Errors.InvalidArgument(
                $"{field}.cap_minor_per_period must be 0 (no cap) to {MaxAmountMinor}, and caps only PER_TRANSFER, PER_GIB and PER_QUERY offers.");
        }

        if (offer.PartialTransferCharge != PartialTransferCharge.Unspecified && offer.Kind != OfferKind.PerGib)
        {
            throw Errors.InvalidArgument($"{field}.partial_transfer_charge is for PER_GIB offers only.");
        }

        if (!Enum.IsDefined(offer.PartialTransferCharge))
        {
            throw Errors.InvalidArgument($"{field}.partial_transfer_charge {(int)offer.PartialTransferCharge} is not a known rule.");
        }

        if (offer.PrivateTo.Length > 0 && !ParticipantId.IsValid(offer.PrivateTo))
        {
            throw Errors.InvalidArgument($"{field}.private_to '{offer.PrivateTo}' is not a participant id ({ParticipantId.Rule}).");
        }

        if (offer.Name.Length > 0 || offer.Dataset.Length > 0 || offer.State != OfferState.Unspecified || offer.CreateTime is not null ||
            offer.WithdrawTime is not null)
        {
            throw Errors.InvalidArgument($"{field}: name, dataset, state, create_time and withdraw_time are set by the gateway.");
        }
    }
}
