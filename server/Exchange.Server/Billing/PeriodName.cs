using System.Globalization;
using System.Text.RegularExpressions;

namespace Exchange.Server.Billing;

/// <summary>A billing period, a calendar month (UTC): <c>billingPeriods/{YYYY-MM}</c>.</summary>
internal readonly partial record struct PeriodName(int Year, int Month)
{
    public string Name => $"billingPeriods/{Period}";

    /// <summary>As stored and shown: <c>YYYY-MM</c>.</summary>
    public string Period => $"{Year:D4}-{Month:D2}";

    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset End => Start.AddMonths(1);

    public PeriodName Next => Month == 12 ? new(Year + 1, 1) : new(Year, Month + 1);

    /// <summary>The period <paramref name="time"/> falls in.</summary>
    public static PeriodName Of(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new PeriodName(utc.Year, utc.Month);
    }

    public static PeriodName Parse(string name, string field = "name") =>
        FromPeriod(ResourceIds.Parse(Pattern(), name, field, "a period name like 'billingPeriods/2026-12'"), field);

    /// <summary><c>YYYY-MM</c>, as a statement's name and the stored columns hold it.</summary>
    public static PeriodName FromPeriod(string period, string field = "period") =>
        DateTime.TryParseExact(period, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month) && month.Year >= 2000
            ? new PeriodName(month.Year, month.Month)
            : throw Errors.InvalidArgument($"{field}: '{period}' is not a month like 2026-12.");

    public override string ToString() => Name;

    [GeneratedRegex("^billingPeriods/([0-9]{4}-[0-9]{2})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
