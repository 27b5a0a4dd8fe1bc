using System.Text.RegularExpressions;
using Exchange.Server.Catalog;

namespace Exchange.Server.Lineage;

/// <summary>An edge of the lineage graph, <c>datasets/{dataset}/derivations/{id}</c>: the dataset is the derived one.</summary>
internal readonly partial record struct DerivationName(DatasetId Dataset, string Id)
{
    public string Name => $"{Dataset.Name}/derivations/{Id}";

    public static DerivationName New(DatasetId dataset) => new(dataset, RandomIds.New());

    /// <summary>The name of an edge this gateway formatted; a malformed one is a server fault.</summary>
    public static DerivationName Parse(string name)
    {
        var match = ResourceIds.MatchStored(Pattern(), name);
        return new DerivationName(new DatasetId(match.Groups[1].Value), match.Groups[2].Value);
    }

    public override string ToString() => Name;

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/derivations/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
