using System.Text.RegularExpressions;

namespace Exchange.Transparency;

/// <summary>Standard padded base64 and nothing else: no whitespace, no URL alphabet, no missing padding.</summary>
internal static partial class StrictBase64
{
    public static byte[]? Decode(string text) =>
        text.Length % 4 == 0 && Pattern().IsMatch(text) ? Convert.FromBase64String(text) : null;

    [GeneratedRegex("^[A-Za-z0-9+/]*={0,2}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
