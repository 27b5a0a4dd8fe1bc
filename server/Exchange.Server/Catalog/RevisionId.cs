using System.Globalization;
using System.Text.RegularExpressions;

namespace Exchange.Server.Catalog;

/// <summary>A revision of a dataset: <c>datasets/{id}/revisions/{n}</c>, n from 1.</summary>
internal readonly partial record struct RevisionId(DatasetId Dataset, long Number)
{
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Dataset.Name}/revisions/{Number}");

    /// <summary>The dataset id and revision number in a revision name, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static RevisionId Parse(string name, string field = "name")
    {
        var match = Pattern().Match(name);
        if (!match.Success || !long.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: a revision name like 'datasets/abc123/revisions/1'."
                : $"{field} '{name}' is not a revision name; expected 'datasets/{{id}}/revisions/{{n}}' with n from 1.");
        }

        return new RevisionId(new DatasetId(match.Groups[1].Value), number);
    }

    public override string ToString() => Name;

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/revisions/([0-9]{1,18})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
