using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Exchange.Server.Access;

/// <summary>Resource names <c>accessRequests/{id}</c> and <c>grants/{id}</c>.</summary>
internal static partial class AccessNames
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewId() => RandomNumberGenerator.GetString(Alphabet, 16);

    public static string Request(string id) => $"accessRequests/{id}";

    public static string Grant(string id) => $"grants/{id}";

    public static string ParseRequest(string name, string field = "name") =>
        Parse(RequestPattern(), name, field, "an access request name like 'accessRequests/abc123'");

    public static string ParseGrant(string name, string field = "name") =>
        Parse(GrantPattern(), name, field, "a grant name like 'grants/abc123'");

    private static string Parse(Regex pattern, string name, string field, string expected)
    {
        var match = pattern.Match(name);
        if (!match.Success)
        {
            throw Errors.InvalidArgument(string.IsNullOrEmpty(name) ? $"{field} is required: {expected}." : $"{field} '{name}' is not {expected}.");
        }

        return match.Groups[1].Value;
    }

    [GeneratedRegex("^accessRequests/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RequestPattern();

    [GeneratedRegex("^grants/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex GrantPattern();
}
