using System.Globalization;
using Exchange.V1;

namespace Exchange.Server.Pricing;

/// <summary>
/// What units cost under an offer, in integer minor units: free units first, then the price per unit,
/// then the cap per period. A GiB is 2^30 bytes, charged pro rata to the byte and rounded half up to
/// the minor unit, so one rule prices a quote and (later) a bill.
/// </summary>
internal static class Quotes
{
    public const long BytesPerGib = 1L << 30;

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
                var billable = Math.Max(0, revisionBytes - (long)Math.Min(offer.FreeUnits, long.MaxValue / BytesPerGib) * BytesPerGib);
                total = ((Int128)price * billable + (BytesPerGib / 2)) / BytesPerGib;
                lines.Add($"{revisionBytes.ToString(CultureInfo.InvariantCulture)} bytes of the latest revision" +
                    (offer.FreeUnits > 0 ? $", the first {offer.FreeUnits} GiB free" : "") +
                    $", at {Amount(price, currency)} per GiB");
                break;
            default:
                var charged = Math.Max(0, units - offer.FreeUnits);
                total = (Int128)price * charged;
                var unit = offer.Kind == OfferKind.PerQuery ? "query" : "transfer";
                lines.Add($"{units} {unit}(s)" + (offer.FreeUnits > 0 ? $", the first {offer.FreeUnits} free" : "") +
                    $", at {Amount(price, currency)} per {unit}");
                break;
        }

        if (offer.CapMinorPerPeriod > 0 && offer.Kind != OfferKind.Subscription && total > offer.CapMinorPerPeriod)
        {
            total = offer.CapMinorPerPeriod;
            lines.Add($"capped at {Amount(offer.CapMinorPerPeriod, currency)} a period");
        }

        if (total > long.MaxValue)
        {
            throw Refusal.OutOfRange("The quote is larger than an amount can be; ask for fewer units or periods.");
        }

        return (new Money { Currency = currency, AmountMinor = (long)total }, lines);
    }

    private static string Amount(long minor, string currency) => Currencies.Format(minor, currency);
}
