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

    /// <summary>A span as a person reads it: days, hours, minutes or seconds.</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{span.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} day{(span.TotalDays == 1 ? "" : "s")}",
        { TotalHours: >= 1 } => $"{span.TotalHours.ToString("0.##", CultureInfo.InvariantCulture)} hours",
        { TotalMinutes: >= 1 } => $"{span.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture)} minutes",
        _ => $"{span.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} seconds",
    };
}
