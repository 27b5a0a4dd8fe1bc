using System.Text.RegularExpressions;

namespace Exchange.Server.Billing;

/// <summary>A participant's statement for a period: <c>participants/{participant}/statements/{YYYY-MM}</c>.</summary>
internal readonly partial record struct StatementName(string Participant, PeriodName Period)
{
    public string Name => $"participants/{Participant}/statements/{Period.Period}";

    public static StatementName Parse(string name, string field = "name")
    {
        var match = ResourceIds.Match(Pattern(), name, field, "a statement name like 'participants/initech/statements/2026-12'");
        return new StatementName(match.Groups[1].Value, PeriodName.FromPeriod(match.Groups[2].Value, field));
    }

    public override string ToString() => Name;

    [GeneratedRegex("^participants/([a-z0-9][a-z0-9._-]{0,62})/statements/([0-9]{4}-[0-9]{2})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
