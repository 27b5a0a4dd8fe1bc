using System.Text.RegularExpressions;

namespace Exchange.Server.Billing;

/// <summary>A usage record's name, <c>usageRecords/{id}</c>: its id is derived from the event it charges.</summary>
internal static partial class UsageName
{
    /// <summary>The id in <paramref name="name"/>, or INVALID_ARGUMENT naming the field.</summary>
    public static string Parse(string name, string field = "name") =>
        ResourceIds.Parse(Pattern(), name, field, "a usage record name like 'usageRecords/transfer-abc123'");

    [GeneratedRegex("^usageRecords/([a-z0-9][a-z0-9-]{0,200})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
