using System.Text.RegularExpressions;

namespace Exchange.Server.Transfers;

/// <summary>A transfer's id, from and to its resource name <c>transfers/{id}</c>.</summary>
internal readonly partial record struct TransferId(string Value)
{
    public string Name => $"transfers/{Value}";

    public static TransferId New() => new(RandomIds.New());

    public static TransferId Parse(string name, string field = "name") =>
        new(ResourceIds.Parse(Pattern(), name, field, "a transfer name like 'transfers/abc123'"));

    public override string ToString() => Name;

    [GeneratedRegex("^transfers/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
