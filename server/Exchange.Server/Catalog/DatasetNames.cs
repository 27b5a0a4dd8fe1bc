using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Exchange.Server.Catalog;

/// <summary>Resource names <c>datasets/{id}</c> and <c>datasets/{id}/revisions/{n}</c>.</summary>
internal static partial class DatasetNames
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string Format(string id) => $"datasets/{id}";

    public static string FormatRevision(string id, long number) =>
        string.Create(CultureInfo.InvariantCulture, $"datasets/{id}/revisions/{number}");

    /// <summary>A fresh random id: 12 characters of [a-z0-9] (about 62 bits).</summary>
    public static string NewId() => RandomNumberGenerator.GetString(Alphabet, 12);

    /// <summary>The id in a dataset name, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static string ParseId(string name, string field = "name")
    {
        var match = DatasetPattern().Match(name);
        if (!match.Success)
        {
            throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: a dataset name like 'datasets/abc123'."
                : $"{field} '{name}' is not a dataset name; expected 'datasets/{{id}}'.");
        }

        return match.Groups[1].Value;
    }

    /// <summary>The dataset id and revision number in a revision name.</summary>
    public static (string DatasetId, long Number) ParseRevision(string name, string field = "name")
    {
        var match = RevisionPattern().Match(name);
        if (!match.Success || !long.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: a revision name like 'datasets/abc123/revisions/1'."
                : $"{field} '{name}' is not a revision name; expected 'datasets/{{id}}/revisions/{{n}}' with n from 1.");
        }

        return (match.Groups[1].Value, number);
    }

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex DatasetPattern();

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})/revisions/([0-9]{1,18})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RevisionPattern();
}
