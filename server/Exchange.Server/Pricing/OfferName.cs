using System.Text.RegularExpressions;
using Exchange.Server.Catalog;

namespace Exchange.Server.Pricing;

/// <summary>An offer's resource name, <c>datasets/{dataset}/offers/{offer}</c>.</summary>
internal readonly partial record struct OfferName(DatasetId Dataset, string Id)
{
    public string Name => $"{Dataset.Name}/offers/{Id}";

    public static OfferName New(DatasetId dataset) => new(dataset, RandomIds.New());

    public static OfferName Parse(string name, string field = "name")
    {
        var match = ResourceIds.Match(Pattern(), name, field, "an offer name like 'datasets/abc123/offers/def456'",
            "an offer name; expected 'datasets/{dataset}/offers/{offer}'");
        return new OfferName(new DatasetId(match.Groups[1].Value), match.Groups[2].Value);
    }

    public override string ToString() => Name;

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/offers/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
