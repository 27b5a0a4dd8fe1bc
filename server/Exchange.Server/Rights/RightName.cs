using System.Text.RegularExpressions;
using Exchange.Server.Catalog;

namespace Exchange.Server.Rights;

/// <summary>A right's resource name, <c>datasets/{dataset}/rights/{right}</c>, and its objections' names below it.</summary>
internal readonly partial record struct RightName(DatasetId Dataset, string Id)
{
    public string Name => $"{Dataset.Name}/rights/{Id}";

    public static RightName New(DatasetId dataset) => new(dataset, RandomIds.New());

    public static RightName Parse(string name, string field = "name") =>
        Of(ResourceIds.Match(Pattern(), name, field, "a right name like 'datasets/abc123/rights/def456'",
            "a right name; expected 'datasets/{dataset}/rights/{right}'"));

    /// <summary>The right and the objection id in an objection's name.</summary>
    public static (RightName Right, string Objection) ParseObjection(string name, string field = "name")
    {
        var match = ResourceIds.Match(ObjectionPattern(), name, field, "an objection name like 'datasets/abc/rights/def/objections/ghi'",
            "an objection name; expected 'datasets/{dataset}/rights/{right}/objections/{objection}'");
        return (Of(match), match.Groups[3].Value);
    }

    /// <summary>The name of a right this gateway stored; a malformed one is a server fault.</summary>
    public static RightName FromStored(string name) => Of(ResourceIds.MatchStored(Pattern(), name));

    private static RightName Of(Match match) => new(new DatasetId(match.Groups[1].Value), match.Groups[2].Value);

    public override string ToString() => Name;

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/rights/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/rights/([a-z0-9][a-z0-9-]{0,62})/objections/([a-z0-9][a-z0-9-]{0,62})\\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex ObjectionPattern();
}
