namespace Exchange.V1;

/// <summary>
/// How an offer prices usage, in integer minor units: part of the contract, so that the gateway that
/// charges and the consumer who checks its statement compute the same amounts. Free units and the cap
/// count per grant and calendar month (UTC): a charge depends on what the grant already used and paid
/// that month. A GiB is 2^30 bytes, charged pro rata to the byte and rounded half up to the minor unit
/// on the month's running total, so many small transfers cost what one large one does.
/// </summary>
public static class OfferCharges
{
    /// <summary>Bytes in a GiB.</summary>
    public const long BytesPerGib = 1L << 30;

    /// <summary>
    /// What <paramref name="units"/> more units cost under <paramref name="offer"/>, after <paramref name="priorUnits"/>
    /// units and <paramref name="priorMinor"/> minor units already charged under the same grant in the same month.
    /// Units are bytes for PER_GIB, transfers, queries or periods for the others, and 1 for a one-off grant.
    /// </summary>
    /// <exception cref="OverflowException">The amount does not fit a 64-bit integer.</exception>
    public static long Charge(Offer offer, long priorUnits, long units, long priorMinor)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentOutOfRangeException.ThrowIfNegative(priorUnits);
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        var price = (Int128)(offer.Price?.AmountMinor ?? 0);
        Int128 amount = offer.Kind switch
        {
            OfferKind.Free or OfferKind.Unspecified => 0,
            OfferKind.OneOff or OfferKind.Subscription => price * units,
            OfferKind.PerGib => Running(offer, priorUnits + (Int128)units) - Running(offer, priorUnits),
            _ => price * (Billable(offer, priorUnits + (Int128)units) - Billable(offer, priorUnits)),
        };

        if (offer.CapMinorPerPeriod > 0 && offer.Kind is not (OfferKind.OneOff or OfferKind.Subscription))
        {
            amount = Int128.Clamp(offer.CapMinorPerPeriod - (Int128)priorMinor, 0, amount);
        }

        return amount <= long.MaxValue ? (long)amount : throw new OverflowException("The charge is larger than an amount can be.");
    }

    /// <summary>The exchange's fee on <paramref name="amountMinor"/> at <paramref name="basisPoints"/> hundredths of a percent, rounded half up.</summary>
    public static long Fee(long amountMinor, int basisPoints)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amountMinor);
        ArgumentOutOfRangeException.ThrowIfNegative(basisPoints);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(basisPoints, 10_000);
        return (long)(((Int128)amountMinor * basisPoints + 5_000) / 10_000);
    }

    /// <summary>Units beyond the free ones, out of <paramref name="used"/>.</summary>
    private static Int128 Billable(Offer offer, Int128 used) => Int128.Max(0, used - offer.FreeUnits);

    /// <summary>The month's running charge for <paramref name="bytes"/> bytes, the free GiB first.</summary>
    private static Int128 Running(Offer offer, Int128 bytes)
    {
        var billable = Int128.Max(0, bytes - (Int128)offer.FreeUnits * BytesPerGib);
        return (offer.Price.AmountMinor * billable + (BytesPerGib / 2)) / BytesPerGib;
    }
}
