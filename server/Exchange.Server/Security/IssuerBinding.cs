using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// Which keys may sign for which issuer, and which issuer may speak for which participant. The
/// key files sign for Exchange:Auth:Issuer only, the authority's JWKS for the authority's own
/// issuer only, and a token that names a <c>kid</c> is checked against that key alone. With both
/// issuers trusted, each participant is registered with exactly one of them
/// (Exchange:Auth:Participants), so neither can mint tokens for the other's participants.
/// </summary>
internal sealed class IssuerBinding
{
    /// <summary>Registered participants: true when registered with the authority, false with the key files' issuer.</summary>
    private readonly Dictionary<string, bool> _participants = new(StringComparer.Ordinal);

    /// <summary>Binds the issuers and participants of settings that <see cref="Problems"/> found nothing wrong with.</summary>
    public IssuerBinding(AuthOptions options)
    {
        Authority = string.IsNullOrWhiteSpace(options.Authority) ? null : options.Authority;
        FileIssuer = options.SigningKeyFiles.Count > 0 ? options.Issuer : null;
        foreach (var (participant, issuer) in options.Participants)
        {
            _participants[participant] = FileIssuer is null || !string.Equals(issuer, FileIssuer, StringComparison.Ordinal);
        }
    }

    /// <summary>What cannot work in the issuers and the participant map of Exchange:Auth.</summary>
    public static IEnumerable<string> Problems(AuthOptions options)
    {
        var authority = string.IsNullOrWhiteSpace(options.Authority) ? null : options.Authority;
        string? fileIssuer = null;
        if (options.SigningKeyFiles.Count > 0)
        {
            if (string.IsNullOrWhiteSpace(options.Issuer))
            {
                yield return "Exchange:Auth:SigningKeyFiles sign tokens for Exchange:Auth:Issuer, which must be set (the 'iss' of those tokens).";
                yield break;
            }

            fileIssuer = options.Issuer;
        }

        if (fileIssuer is not null && authority is not null && SameIssuer(fileIssuer, authority))
        {
            yield return $"Exchange:Auth:Issuer ('{fileIssuer}') and the issuer of Exchange:Auth:Authority must differ: each signs with keys of its own.";
            yield break;
        }

        foreach (var (participant, issuer) in options.Participants)
        {
            if (!ParticipantId.IsValid(participant))
            {
                yield return $"Exchange:Auth:Participants: '{participant}' is not a participant id ({ParticipantId.Rule}).";
            }
            else if (!(fileIssuer is not null && string.Equals(issuer, fileIssuer, StringComparison.Ordinal))
                && !(authority is not null && SameIssuer(issuer, authority)))
            {
                yield return $"Exchange:Auth:Participants:{participant}: '{issuer}' is not a configured issuer ({Configured(fileIssuer, authority)}).";
            }
        }
    }

    /// <summary>The issuer the key files sign for: Exchange:Auth:Issuer, when there are key files.</summary>
    public string? FileIssuer { get; }

    /// <summary>The OpenID Connect authority, whose discovery document names its issuer and keys.</summary>
    public string? Authority { get; }

    /// <summary>Both issue tokens: every participant must then be registered with one.</summary>
    public bool BothIssuers => FileIssuer is not null && Authority is not null;

    /// <summary>
    /// The keys that may have signed <paramref name="token"/>: those of the issuer it names (the
    /// key files', or the authority's as of its current <paramref name="authority"/> configuration),
    /// only the one with its <paramref name="kid"/> when it names one. An issuer that is neither is refused.
    /// </summary>
    public IEnumerable<SecurityKey> KeysFor(SecurityToken token, string? kid, SigningKeyRing files, BaseConfiguration? authority)
    {
        IEnumerable<SecurityKey> keys =
            FileIssuer is not null && string.Equals(token.Issuer, FileIssuer, StringComparison.Ordinal) ? files.Keys()
            : Authority is not null && authority?.Issuer is { } issuer && string.Equals(token.Issuer, issuer, StringComparison.Ordinal) ? authority.SigningKeys
            : throw new SecurityTokenInvalidIssuerException("The token's issuer is not a configured issuer.") { InvalidIssuer = token.Issuer };
        return string.IsNullOrEmpty(kid) ? keys : keys.Where(key => string.Equals(key.KeyId, kid, StringComparison.Ordinal));
    }

    /// <summary>Why <paramref name="issuer"/> may not speak for <paramref name="participant"/>, or null when it may.</summary>
    public string? Problem(string participant, string issuer)
    {
        if (!BothIssuers)
        {
            return null;
        }

        if (!_participants.TryGetValue(participant, out var registeredWithAuthority))
        {
            return $"participant '{participant}' is not registered with an issuer; the gateway's operator must register it " +
                $"(Exchange:Auth:Participants:{participant} = '{FileIssuer}' or '{Authority}')";
        }

        var fromAuthority = !string.Equals(issuer, FileIssuer, StringComparison.Ordinal);
        return registeredWithAuthority == fromAuthority
            ? null
            : $"participant '{participant}' is registered with another issuer than this token's ('{issuer}')";
    }

    private static string Configured(string? fileIssuer, string? authorityIssuer) => (fileIssuer, authorityIssuer) switch
    {
        (null, null) => "none is",
        ({ } files, null) => $"only '{files}', Exchange:Auth:Issuer",
        (null, { } authority) => $"only '{authority}', Exchange:Auth:Authority",
        ({ } files, { } authority) => $"'{files}', Exchange:Auth:Issuer, or '{authority}', Exchange:Auth:Authority",
    };

    /// <summary>OpenID Connect Discovery makes the authority's issuer its address; a trailing slash is written either way.</summary>
    private static bool SameIssuer(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);
}
