using System.Globalization;
using Exchange.V1;

namespace Exchange.Server.Pricing;

/// <summary>
/// What units cost under an offer, in integer minor units: free units first, then the price per unit,
/// then the cap per period. A GiB is 2^30 bytes, charged pro rata to the byte and rounded half up to
/// the minor unit: <see cref="OfferCharges"/>, the rule that prices a quote prices the bill.
/// </summary>
internal static class Quotes
{
    public static (Money Total, List<string> Lines) Price(Offer offer, long units, int periods, long revisionBytes)
    {
        var currency = offer.Price.Currency;
        var price = offer.Price.AmountMinor;
        var lines = new List<string>();
        Int128 total;
        switch (offer.Kind)
        {
            case OfferKind.Free:
                total = 0;
                lines.Add("free");
                break;
            case OfferKind.OneOff:
                total = price;
                lines.Add($"one price: {Amount(price, currency)}");
                break;
            case OfferKind.Subscription:
                total = (Int128)price * periods;
                lines.Add($"{periods} period(s) of {offer.PeriodMonths} month(s) at {Amount(price, currency)}" +
                    (offer.AutoRenew ? ", renewing by itself" : ""));
                break;
            case OfferKind.PerGib:
                total = Charge(offer, revisionBytes);
                lines.Add($"{revisionBytes.ToString(CultureInfo.InvariantCulture)} bytes of the latest revision" +
                    (offer.FreeUnits > 0 ? $", the first {offer.FreeUnits} GiB free" : "") +
                    $", at {Amount(price, currency)} per GiB");
                break;
            default:
                total = Charge(offer, units);
                var unit = offer.Kind == OfferKind.PerQuery ? "query" : "transfer";
                lines.Add($"{units} {unit}(s)" + (offer.FreeUnits > 0 ? $", the first {offer.FreeUnits} free" : "") +
                    $", at {Amount(price, currency)} per {unit}");
                break;
        }

        if (offer.CapMinorPerPeriod > 0 && total == offer.CapMinorPerPeriod)
        {
            lines.Add($"capped at {Amount(offer.CapMinorPerPeriod, currency)} a month");
        }

        if (total > long.MaxValue)
        {
            throw Refusal.OutOfRange("The quote is larger than an amount can be; ask for fewer units or periods.");
        }

        return (new Money { Currency = currency, AmountMinor = (long)total }, lines);
    }

    /// <summary>The units' charge in one month, or more than an amount can be when it overflows (refused above).</summary>
    private static Int128 Charge(Offer offer, long units)
    {
        try
        {
            return OfferCharges.Charge(offer, 0, units, 0);
        }
        catch (OverflowException)
        {
            return (Int128)long.MaxValue + 1;
        }
    }

    private static string Amount(long minor, string currency) => Currencies.Format(minor, currency);
}
