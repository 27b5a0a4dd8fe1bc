using System.Globalization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// Exchange:Auth:MaxTokenLifetime: a token is judged by how long it was issued for, <c>exp - iat</c>,
/// so a long-lived token stays refused however little of it is left; without <c>iat</c>, or with an
/// <c>iat</c> in the future (which would shrink the span), by the time it has left, <c>exp - now</c>.
/// </summary>
internal static class TokenLifetime
{
    public const string Setting = "Exchange:Auth:MaxTokenLifetime";

    /// <summary>Why <paramref name="token"/> lives too long, or null when it does not.</summary>
    public static string? Problem(SecurityToken token, DateTimeOffset now, TimeSpan maximum)
    {
        // JsonWebToken reads an absent iat as DateTime.MinValue.
        var issuedAt = token is JsonWebToken { IssuedAt: var iat } && iat != DateTime.MinValue ? iat : (DateTime?)null;
        var (from, measured) = issuedAt is { } issued && issued <= now.UtcDateTime ? (issued, "exp - iat") : (now.UtcDateTime, "exp - now");
        var lifetime = token.ValidTo - from;
        return lifetime <= maximum
            ? null
            : $"the token is valid for {Describe(lifetime)} ({measured}), longer than the {Describe(maximum)} this gateway accepts ({Setting}); use a shorter-lived token";
    }

    /// <summary>
    /// The library's lifetime rule (exp required, nbf not after exp), judged on the gateway's clock
    /// instead of the system's: true when a token with these <c>nbf</c> and <c>exp</c> may be used at
    /// <paramref name="now"/>, give or take <paramref name="skew"/>; otherwise the library's own
    /// exceptions, so the caller is told the same thing (expired, not yet valid, no expiry).
    /// </summary>
    public static bool Validate(DateTime? notBefore, DateTime? expires, DateTimeOffset now, TimeSpan skew)
    {
        if (expires is not { } exp)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time (exp).");
        }

        if (notBefore is { } nbf && nbf > exp)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's nbf is after its exp.") { NotBefore = nbf, Expires = exp };
        }

        if (notBefore is { } from && from - skew > now.UtcDateTime)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = from };
        }

        if (now.UtcDateTime >= exp + skew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = exp };
        }

        return true;
    }

    /// <summary>A span as a person reads it: days, hours, minutes or seconds.</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{span.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} day{(span.TotalDays == 1 ? "" : "s")}",
        { TotalHours: >= 1 } => $"{span.TotalHours.ToString("0.##", CultureInfo.InvariantCulture)} hours",
        { TotalMinutes: >= 1 } => $"{span.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture)} minutes",
        _ => $"{span.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} seconds",
    };
}
