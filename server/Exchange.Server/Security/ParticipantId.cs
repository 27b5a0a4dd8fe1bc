using System.Text.RegularExpressions;

namespace Exchange.Server.Security;

/// <summary>
/// Participants are plain ids such as <c>acme</c> (the token's <c>sub</c>), used as-is in
/// every provider, consumer and actor field.
/// </summary>
internal static partial class ParticipantId
{
    public const string Rule = "1-63 characters: lowercase letters, digits, '-', '_' or '.', starting with a letter or digit";

    public static bool IsValid(string? value) => value is not null && Pattern().IsMatch(value);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
