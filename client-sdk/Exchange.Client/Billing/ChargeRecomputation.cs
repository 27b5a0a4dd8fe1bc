using System.Globalization;
using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>
/// Recomputes charges from the audit log alone: each <c>billing.charge</c> record must follow from the
/// event it names (a completed or cut transfer, an answered query, an approval) and from the grant's
/// offer under <see cref="OfferCharges"/>, given what the grant already used that month, with the fee
/// at the rate it declares; no event is charged twice; a reversal undoes exactly one earlier charge.
/// Nothing the gateway says about its own arithmetic is taken on trust, and a record that cannot be
/// read is a difference, never an exception.
/// </summary>
public static class ChargeRecomputation
{
    /// <summary>The action of a charge's audit record.</summary>
    public const string ChargeAction = "billing.charge";

    private const string ReversalPrefix = "usageRecords/reversal-";

    /// <summary>
    /// One sentence per charge that does not follow from its event and its offer. <paramref name="charges"/> must hold
    /// every charge of the grants concerned in the months concerned (a charge depends on the month's earlier ones), and
    /// every charge of each transfer concerned (a cut transfer is charged across streams).
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
        var state = new State();
        foreach (var (index, record) in charges.OrderBy(c => c.Index))
        {
            var at = $"{record.Resource} (event {index})";
            try
            {
                if (Problem(index, record, events, grants, state) is { } problem)
                {
                    state.Problems.Add($"{at} {problem}");
                }
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or NullReferenceException)
            {
                state.Problems.Add($"{at} cannot be checked: {ex.Message}");
            }
        }

        return state.Problems;
    }

    /// <summary>The month of <paramref name="time"/> as periods are named, <c>YYYY-MM</c> (UTC).</summary>
    public static string Month(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    internal static Dictionary<string, string> Details(AuditRecord record) =>
        record.Details.GroupBy(d => d.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);

    private static string? Problem(long index, AuditRecord record, IReadOnlyDictionary<long, AuditRecord> events, IReadOnlyDictionary<string, GrantPrice> grants,
        State state)
    {
        var d = Details(record);
        var usage = record.Resource;
        if (!state.Usages.Add(usage))
        {
            return "is charged a second time";
        }

        if (!grants.TryGetValue(d.GetValueOrDefault("grant", ""), out var grant))
        {
            return $"names grant '{d.GetValueOrDefault("grant", "")}', whose approval and terms could not be read from the log";
        }

        var units = Signed(d, "units");
        var amount = Signed(d, "amount_minor");
        var fee = Signed(d, "fee_minor");
        var cause = long.Parse(d.GetValueOrDefault("event") ?? "", NumberStyles.None, CultureInfo.InvariantCulture);
        var month = d.GetValueOrDefault("usage_period", "");
        if (d.GetValueOrDefault("currency") != grant.Offer.Price?.Currency || d.GetValueOrDefault("provider") != grant.Provider || record.Subject != grant.Consumer)
        {
            return $"names another currency or other parties than {grant.Grant} and its offer";
        }

        var prior = state.Months.GetValueOrDefault((grant.Grant, month));
        // The month goes on from what was charged, so one wrong charge is one difference, not a cascade.
        state.Months[(grant.Grant, month)] = (checked(prior.Units + units), checked(prior.Minor + amount));
        if (usage.StartsWith(ReversalPrefix, StringComparison.Ordinal))
        {
            // A reversal undoes exactly one earlier charge, named by its resource and its event.
            var reversed = "usageRecords/" + usage[ReversalPrefix.Length..];
            return !state.Charged.TryGetValue(reversed, out var original) || d.GetValueOrDefault("resource") != reversed || cause != original.Index ||
                   units != -original.Units || amount != -original.Amount || fee != -original.Fee || month != original.Month
                ? $"does not exactly undo {reversed} as the log shows it"
                : null;
        }

        state.Charged[usage] = (index, units, amount, fee, month);
        if (units < 0 || prior.Units < 0 || prior.Minor < 0)
        {
            return "charges negative units, or follows charges that do";
        }

        var expected = OfferCharges.Charge(grant.Offer, prior.Units, units, prior.Minor);
        if (amount != expected)
        {
            return $"charges {amount} {grant.Offer.Price?.Currency}; {grant.Offer.Name} gives {expected} for {units} unit(s) " +
                $"after {prior.Units} unit(s) and {prior.Minor} charged in {month}";
        }

        if (!int.TryParse(d.GetValueOrDefault("fee_basis_points"), NumberStyles.None, CultureInfo.InvariantCulture, out var rate) || rate > 10_000 ||
            fee != OfferCharges.Fee(amount, rate))
        {
            return $"takes a fee of {fee}, not what its declared rate gives on {amount}";
        }

        return events.TryGetValue(cause, out var happened)
            ? EventProblem(usage, units, d, happened, record, cause, grant, state, month)
            : $"charges event {cause}, which the log does not show";
    }

    /// <summary>Why the charged event does not bear the charge, or null when it does.</summary>
    private static string? EventProblem(string usage, long units, Dictionary<string, string> d, AuditRecord happened, AuditRecord charge, long cause,
        GrantPrice grant, State state, string month)
    {
        var offer = grant.Offer;
        var resource = d.GetValueOrDefault("resource", "");
        var id = grant.Grant["grants/".Length..];
        var details = Details(happened);
        var success = happened.Outcome == AuditOutcome.Success;
        var eventMonth = happened.Time is null ? "" : Month(happened.Time.ToDateTimeOffset());
        if (offer.Kind != OfferKind.Subscription && !state.Events.Add(cause))
        {
            return $"charges event {cause} a second time";
        }

        switch (offer.Kind)
        {
            case OfferKind.PerTransfer or OfferKind.PerGib:
                var cut = offer.Kind == OfferKind.PerGib && offer.PartialTransferCharge == PartialTransferCharge.BytesSent;
                if (happened.Resource != resource || details.GetValueOrDefault("grant") != grant.Grant ||
                    !(happened.Action == "transfer.complete" && success || cut && happened.Action == "transfer.fail"))
                {
                    return $"charges event {cause}, '{happened.Action}' of '{happened.Resource}', not the end of a transfer of {resource} under {grant.Grant}";
                }

                var transfer = $"usageRecords/transfer-{resource["transfers/".Length..]}";
                if (cut ? !(usage.StartsWith(transfer + "-", StringComparison.Ordinal) && long.TryParse(usage[(transfer.Length + 1)..], NumberStyles.None,
                        CultureInfo.InvariantCulture, out _)) : usage != transfer)
                {
                    return $"is not the id a charge of {resource} has";
                }

                if (!long.TryParse(details.GetValueOrDefault("bytes_sent"), NumberStyles.None, CultureInfo.InvariantCulture, out var sent))
                {
                    return $"charges event {cause}, which does not say how many bytes it sent";
                }

                var before = state.BytesCharged.GetValueOrDefault(resource);
                state.BytesCharged[resource] = checked(before + units);
                var expectedUnits = offer.Kind == OfferKind.PerTransfer ? 1 : cut ? sent - before : sent;
                return units != expectedUnits
                    ? $"charges {units} unit(s) where the transfer's receipt gives {expectedUnits}"
                    : eventMonth != month ? $"counts in {month}, but the transfer ended in {eventMonth}" : null;
            case OfferKind.PerQuery:
                return happened.Action != "compute.query" || !success || happened.Resource != grant.Grant
                    ? $"charges event {cause}, which is not an answered query under {grant.Grant}"
                    : usage != $"usageRecords/query-{cause.ToString(CultureInfo.InvariantCulture)}" || units != 1
                        ? "is not how a query is charged: once, as query-{its event}"
                        : eventMonth != month ? $"counts in {month}, but the query was answered in {eventMonth}" : null;
            case OfferKind.OneOff or OfferKind.Subscription:
                if (happened.Action != "access.approve" || !success || details.GetValueOrDefault("grant") != grant.Grant)
                {
                    return $"charges event {cause}, which is not the approval of {grant.Grant}";
                }

                if (offer.Kind == OfferKind.OneOff)
                {
                    return usage != $"usageRecords/grant-{id}" || units != 1 ? "is not how a one-off price is charged: once, as grant-{grant}" : null;
                }

                var prefix = $"usageRecords/subscription-{id}-";
                if (!usage.StartsWith(prefix, StringComparison.Ordinal) ||
                    !int.TryParse(usage[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1 || units != 1)
                {
                    return "is not how a subscription is charged: once a period, as subscription-{grant}-{period number}";
                }

                var start = grant.CreateTime.AddMonths(checked((number - 1) * offer.PeriodMonths));
                return Month(start) != month ? $"charges period {number}, which starts in {Month(start)}, not {month}"
                    : number > 1 && !offer.AutoRenew ? $"charges period {number} of a subscription that does not renew"
                    : number > 1 && grant.EndTime <= start ? $"charges period {number}, which starts after {grant.Grant} ended"
                    : charge.Time is { } charged && charged.ToDateTimeOffset() < start ? $"charges period {number} before it starts"
                    : null;
            default:
                return $"charges under {offer.Name}, which is free";
        }
    }

    private static long Signed(Dictionary<string, string> d, string key) =>
        long.Parse(d.GetValueOrDefault(key) ?? "", NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    /// <summary>What the charges so far add up to.</summary>
    private sealed class State
    {
        public List<string> Problems { get; } = [];

        public HashSet<string> Usages { get; } = new(StringComparer.Ordinal);

        public HashSet<long> Events { get; } = [];

        public Dictionary<(string Grant, string Month), (long Units, long Minor)> Months { get; } = [];

        public Dictionary<string, long> BytesCharged { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (long Index, long Units, long Amount, long Fee, string Month)> Charged { get; } = new(StringComparer.Ordinal);
    }
}
