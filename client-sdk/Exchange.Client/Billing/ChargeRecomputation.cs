using System.Globalization;
using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>
/// Recomputes charges from the audit log alone: each <c>billing.charge</c> record must follow from the
/// event it names (a completed or cut transfer, an answered query, an approval) and from the grant's
/// offer under <see cref="OfferCharges"/>, given what the grant already used that month; no usage is
/// charged twice. Nothing the gateway says about its own arithmetic is taken on trust.
/// </summary>
public static class ChargeRecomputation
{
    /// <summary>The action of a charge's audit record.</summary>
    public const string ChargeAction = "billing.charge";

    private const string ReversalPrefix = "usageRecords/reversal-";

    /// <summary>
    /// One sentence per charge that does not follow from its event and its offer. <paramref name="charges"/> must hold
    /// every charge of the grants concerned in the months concerned (a charge depends on the month's earlier ones).
    /// </summary>
    /// <param name="charges">Charge records with their log indexes.</param>
    /// <param name="events">The events the charges name, by log index.</param>
    /// <param name="grants">The grants the charges name, by name.</param>
    public static List<string> Problems(IEnumerable<(long Index, AuditRecord Record)> charges, IReadOnlyDictionary<long, AuditRecord> events,
        IReadOnlyDictionary<string, GrantPrice> grants)
    {
        ArgumentNullException.ThrowIfNull(charges);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(grants);
        var problems = new List<string>();
        var months = new Dictionary<(string Grant, string Month), (long Units, long Minor)>();
        var bytesCharged = new Dictionary<string, long>(StringComparer.Ordinal);
        var usages = new HashSet<string>(StringComparer.Ordinal);
        var charged = new Dictionary<string, (long Index, long Units, long Amount, long Fee, string Month)>(StringComparer.Ordinal);
        foreach (var (index, record) in charges.OrderBy(c => c.Index))
        {
            var d = Details(record);
            var usage = record.Resource;
            var at = $"{usage} (event {index})";
            if (!usages.Add(usage))
            {
                problems.Add($"{at} is charged a second time");
                continue;
            }

            if (!grants.TryGetValue(d.GetValueOrDefault("grant", ""), out var grant))
            {
                problems.Add($"{at} names grant '{d.GetValueOrDefault("grant", "")}', whose terms could not be read");
                continue;
            }

            if (!long.TryParse(d.GetValueOrDefault("units"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var units) ||
                !long.TryParse(d.GetValueOrDefault("amount_minor"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var amount) ||
                !long.TryParse(d.GetValueOrDefault("fee_minor"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var fee) ||
                !long.TryParse(d.GetValueOrDefault("event"), NumberStyles.None, CultureInfo.InvariantCulture, out var cause))
            {
                problems.Add($"{at} lacks its units, amount, fee or event");
                continue;
            }

            var month = d.GetValueOrDefault("usage_period", "");
            var prior = months.GetValueOrDefault((grant.Grant, month));
            // The month goes on from what was charged, so one wrong charge is one difference, not a cascade.
            months[(grant.Grant, month)] = (prior.Units + units, prior.Minor + amount);
            if (usage.StartsWith(ReversalPrefix, StringComparison.Ordinal))
            {
                // A reversal undoes exactly one earlier charge, named by its resource and its event.
                var reversed = "usageRecords/" + usage[ReversalPrefix.Length..];
                if (!charged.TryGetValue(reversed, out var original) || d.GetValueOrDefault("resource") != reversed || cause != original.Index ||
                    units != -original.Units || amount != -original.Amount || fee != -original.Fee || month != original.Month)
                {
                    problems.Add($"{at} does not exactly undo {reversed} as the log shows it");
                }

                continue;
            }

            charged[usage] = (index, units, amount, fee, month);
            var expected = OfferCharges.Charge(grant.Offer, prior.Units, units, prior.Minor);
            if (amount != expected)
            {
                problems.Add($"{at} charges {amount} {grant.Offer.Price?.Currency}; {grant.Offer.Name} gives {expected} for {units} unit(s) " +
                    $"after {prior.Units} unit(s) and {prior.Minor} charged in {month}");
            }

            if (d.GetValueOrDefault("currency") != grant.Offer.Price?.Currency || fee > amount || d.GetValueOrDefault("provider") != grant.Provider ||
                record.Subject != grant.Consumer)
            {
                problems.Add($"{at} names another currency, parties, or a fee larger than its amount than {grant.Grant} and its offer");
            }

            if (!events.TryGetValue(cause, out var happened))
            {
                problems.Add($"{at} charges event {cause}, which the log does not show");
            }
            else if (EventProblem(usage, units, d, happened, cause, grant, bytesCharged, month) is { } problem)
            {
                problems.Add($"{at}: {problem}");
            }
        }

        return problems;
    }

    /// <summary>Why the charged event does not bear the charge, or null when it does.</summary>
    private static string? EventProblem(string usage, long units, Dictionary<string, string> d, AuditRecord happened, long cause, GrantPrice grant,
        Dictionary<string, long> bytesCharged, string month)
    {
        var offer = grant.Offer;
        var resource = d.GetValueOrDefault("resource", "");
        var id = grant.Grant["grants/".Length..];
        var details = Details(happened);
        var success = happened.Outcome == AuditOutcome.Success;
        var eventMonth = Month(happened.Time.ToDateTimeOffset());
        switch (offer.Kind)
        {
            case OfferKind.PerTransfer or OfferKind.PerGib:
                var cut = offer.Kind == OfferKind.PerGib && offer.PartialTransferCharge == PartialTransferCharge.BytesSent;
                if (happened.Resource != resource || details.GetValueOrDefault("grant") != grant.Grant ||
                    !(happened.Action == "transfer.complete" && success || cut && happened.Action == "transfer.fail"))
                {
                    return $"event {cause} is '{happened.Action}' of '{happened.Resource}', not the end of a transfer of {resource} under {grant.Grant}";
                }

                var transfer = resource["transfers/".Length..];
                if (!usage.StartsWith($"usageRecords/transfer-{transfer}", StringComparison.Ordinal))
                {
                    return $"a charge for {resource} has another id";
                }

                var sent = long.Parse(details.GetValueOrDefault("bytes_sent", "0"), NumberStyles.None, CultureInfo.InvariantCulture);
                var before = bytesCharged.GetValueOrDefault(resource);
                bytesCharged[resource] = before + units;
                var expectedUnits = offer.Kind == OfferKind.PerTransfer ? 1 : cut ? sent - before : sent;
                return units != expectedUnits
                    ? $"charges {units} unit(s) where the transfer's receipt gives {expectedUnits}"
                    : eventMonth != month ? $"counts in {month}, but the transfer ended in {eventMonth}" : null;
            case OfferKind.PerQuery:
                return happened.Action != "compute.query" || !success || happened.Resource != grant.Grant
                    ? $"event {cause} is not an answered query under {grant.Grant}"
                    : usage != $"usageRecords/query-{cause.ToString(CultureInfo.InvariantCulture)}" || units != 1
                        ? "a query is charged once, as query-{its event}"
                        : eventMonth != month ? $"counts in {month}, but the query was answered in {eventMonth}" : null;
            case OfferKind.OneOff or OfferKind.Subscription:
                if (happened.Action != "access.approve" || !success || details.GetValueOrDefault("grant") != grant.Grant)
                {
                    return $"event {cause} is not the approval of {grant.Grant}";
                }

                if (offer.Kind == OfferKind.OneOff)
                {
                    return usage != $"usageRecords/grant-{id}" || units != 1 ? "a one-off price is charged once, as grant-{grant}" : null;
                }

                var prefix = $"usageRecords/subscription-{id}-";
                if (!usage.StartsWith(prefix, StringComparison.Ordinal) ||
                    !long.TryParse(usage[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1 || units != 1)
                {
                    return "a subscription is charged once a period, as subscription-{grant}-{period number}";
                }

                var start = grant.CreateTime.AddMonths((int)Math.Min((number - 1) * offer.PeriodMonths, 12 * 1000));
                return Month(start) != month ? $"period {number} starts in {Month(start)}, not {month}" : null;
            default:
                return $"{offer.Name} is free; nothing under it is charged";
        }
    }

    /// <summary>The month of <paramref name="time"/> as periods are named, <c>YYYY-MM</c> (UTC).</summary>
    public static string Month(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    internal static Dictionary<string, string> Details(AuditRecord record) =>
        record.Details.GroupBy(d => d.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
}
