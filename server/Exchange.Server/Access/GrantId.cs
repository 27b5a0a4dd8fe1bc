using System.Text.RegularExpressions;

namespace Exchange.Server.Access;

/// <summary>A grant's id, from and to its resource name <c>grants/{id}</c>.</summary>
internal readonly partial record struct GrantId(string Value)
{
    public string Name => $"grants/{Value}";

    public static GrantId New() => new(RandomIds.New());

    public static GrantId Parse(string name, string field = "name") =>
        new(ResourceIds.Parse(Pattern(), name, field, "a grant name like 'grants/abc123'"));

    public override string ToString() => Name;

    [GeneratedRegex("^grants/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
