using System.Globalization;
using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>Where a cancelled subscription renewal ends: what its event should log, and what it does.</summary>
internal static class CancelledRenewalEnd
{
    /// <summary>The end of the period under way at <paramref name="time"/>, periods counted from <paramref name="start"/> as the meter counts them.</summary>
    public static DateTimeOffset PeriodUnderWay(DateTimeOffset start, int periodMonths, DateTimeOffset time)
    {
        var periods = 1;
        while (start.AddMonths(periods * periodMonths) <= time)
        {
            periods++;
        }

        return start.AddMonths(periods * periodMonths);
    }

    /// <summary>The event's one <c>end_time</c>, or null when it has none, more than one (which the gateway never writes) or one that is not a time.</summary>
    public static DateTimeOffset? Logged(AuditRecord record)
    {
        var ends = record.Details.Where(d => d.Key == "end_time").Select(d => d.Value).Take(2).ToList();
        return ends.Count == 1 && DateTimeOffset.TryParse(ends[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var end) ? end : null;
    }
}
