using System.Text.RegularExpressions;

namespace Exchange.Server.Access;

/// <summary>An access request's id, from and to its resource name <c>accessRequests/{id}</c>.</summary>
internal readonly partial record struct AccessRequestId(string Value)
{
    public string Name => $"accessRequests/{Value}";

    public static AccessRequestId New() => new(RandomIds.New());

    public static AccessRequestId Parse(string name, string field = "name") =>
        new(ResourceIds.Parse(Pattern(), name, field, "an access request name like 'accessRequests/abc123'"));

    /// <summary>The id in an access request name this gateway formatted itself (e.g. one stored in a row); a malformed one is a server fault.</summary>
    public static AccessRequestId FromName(string name) => new(ResourceIds.FromStored(Pattern(), name));

    public override string ToString() => Name;

    [GeneratedRegex("^accessRequests/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
