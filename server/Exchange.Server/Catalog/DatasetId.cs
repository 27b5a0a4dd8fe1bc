using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Exchange.Server.Catalog;

/// <summary>
/// A dataset's id, parsed once from its resource name <c>datasets/{id}</c> at the edge and
/// formatted back (<see cref="Name"/>) only when a resource goes out.
/// </summary>
internal readonly partial record struct DatasetId(string Value)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public string Name => $"datasets/{Value}";

    /// <summary>A fresh random id: 12 characters of [a-z0-9] (about 62 bits).</summary>
    public static DatasetId New() => new(RandomNumberGenerator.GetString(Alphabet, 12));

    /// <summary>The id in a dataset name, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static DatasetId Parse(string name, string field = "name") =>
        new(ResourceIds.Parse(Pattern(), name, field, "a dataset name like 'datasets/abc123'", "a dataset name; expected 'datasets/{id}'"));

    /// <summary>The id in a dataset name this gateway formatted itself (e.g. one stored in a row); a malformed one is a server fault.</summary>
    public static DatasetId FromName(string name) => new(ResourceIds.FromStored(Pattern(), name));

    public override string ToString() => Name;

    [GeneratedRegex("^datasets/([a-z0-9][a-z0-9-]{0,62})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
