using System.Text.RegularExpressions;

namespace Exchange.Server;

/// <summary>How every typed id (DatasetId, GrantId, …) is read from a resource name: the one place the edge's message is made.</summary>
internal static class ResourceIds
{
    /// <summary>
    /// The id (the pattern's first group) in <paramref name="name"/>, or INVALID_ARGUMENT naming
    /// <paramref name="field"/>: "{field} is required: {expected}." or "{field} '{name}' is not {malformed ?? expected}."
    /// </summary>
    public static string Parse(Regex pattern, string name, string field, string expected, string? malformed = null)
    {
        var match = pattern.Match(name);
        return match.Success
            ? match.Groups[1].Value
            : throw Errors.InvalidArgument(string.IsNullOrEmpty(name)
                ? $"{field} is required: {expected}."
                : $"{field} '{name}' is not {malformed ?? expected}.");
    }

    /// <summary>The id in a name this gateway formatted itself (e.g. one stored in a row): a malformed one is a server fault, not the caller's.</summary>
    public static string FromStored(Regex pattern, string name) =>
        pattern.Match(name) is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException($"A stored resource name is malformed: '{name}'.");
}
