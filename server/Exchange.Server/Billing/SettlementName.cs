using System.Globalization;
using System.Text.RegularExpressions;

namespace Exchange.Server.Billing;

/// <summary>One settlement instruction of a closed period: <c>billingPeriods/{YYYY-MM}/settlements/{number}</c>.</summary>
internal readonly partial record struct SettlementName(PeriodName Period, int Number)
{
    public string Name => $"{Period.Name}/settlements/{Number.ToString(CultureInfo.InvariantCulture)}";

    public static SettlementName Parse(string name, string field = "name")
    {
        var match = ResourceIds.Match(Pattern(), name, field, "a settlement name like 'billingPeriods/2026-12/settlements/1'");
        return new SettlementName(PeriodName.FromPeriod(match.Groups[1].Value, field), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    public override string ToString() => Name;

    [GeneratedRegex("^billingPeriods/([0-9]{4}-[0-9]{2})/settlements/([1-9][0-9]{0,8})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
