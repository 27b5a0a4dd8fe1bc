using System.Text.RegularExpressions;

namespace Exchange.Server.Transfers;

/// <summary>Resource names <c>transfers/{id}</c>.</summary>
internal static partial class TransferNames
{
    public static string Parse(string name, string field = "name")
    {
        var match = Pattern().Match(name);
        return match.Success
            ? match.Groups[1].Value
            : throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: a transfer name like 'transfers/abc123'."
                : $"{field} '{name}' is not a transfer name like 'transfers/abc123'.");
    }

    [GeneratedRegex("^transfers/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
