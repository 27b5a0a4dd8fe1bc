using System.Text.RegularExpressions;

namespace Exchange.Server;

/// <summary>How every typed id (DatasetId, GrantId, …) is read from a resource name: the one place the edge's message is made.</summary>
internal static class ResourceIds
{
    /// <summary>
    /// The id (the pattern's first group) in <paramref name="name"/>, or INVALID_ARGUMENT naming
    /// <paramref name="field"/>: "{field} is required: {expected}." or "{field} '{name}' is not {malformed ?? expected}."
    /// </summary>
    public static string Parse(Regex pattern, string name, string field, string expected, string? malformed = null) =>
        Match(pattern, name, field, expected, malformed).Groups[1].Value;

    /// <summary>
    /// The match of <paramref name="pattern"/> on <paramref name="name"/>, for names of several ids
    /// (<c>datasets/{d}/rights/{r}</c>), or INVALID_ARGUMENT worded as <see cref="Parse"/> words it.
    /// </summary>
    public static Match Match(Regex pattern, string name, string field, string expected, string? malformed = null)
    {
        var match = pattern.Match(name);
        return match.Success
            ? match
            : throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: {expected}."
                : $"{field} '{name}' is not {malformed ?? expected}.");
    }

    /// <summary>The id in a name this gateway formatted itself (e.g. one stored in a row): a malformed one is a server fault, not the caller's.</summary>
    public static string FromStored(Regex pattern, string name) => MatchStored(pattern, name).Groups[1].Value;

    /// <summary>The match on a name this gateway formatted itself, for names of several ids.</summary>
    public static Match MatchStored(Regex pattern, string name) =>
        pattern.Match(name) is { Success: true } match
            ? match
            : throw new InvalidOperationException($"A stored resource name is malformed: '{name}'.");
}
