namespace Exchange.Server.Security;

internal sealed class AuthOptions
{
    /// <summary>The <c>iss</c> of the tokens the <see cref="SigningKeyFiles"/> keys sign (and only those keys).</summary>
    public string? Issuer { get; set; }

    /// <summary>The one accepted <c>aud</c>.</summary>
    public string Audience { get; set; } = "exchange";

    /// <summary>An OpenID Connect authority whose discovery document and JWKS supply the keys of its own issuer.</summary>
    public string? Authority { get; set; }

    /// <summary>
    /// Participant id to the issuer (<c>iss</c>) whose tokens may speak for it: <see cref="Issuer"/> or
    /// <see cref="Authority"/>. Needed for every participant when both issue tokens; with one issuer,
    /// every participant belongs to it.
    /// </summary>
    public Dictionary<string, string> Participants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>PEM public keys (SPKI) or certificates that may sign tokens, or directories of them; changes are picked up without a restart.</summary>
    public List<string> SigningKeyFiles { get; set; } = [];

    /// <summary>How often the signing key files are looked at for changes (at most; only when tokens arrive).</summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The accepted JWS algorithms; anything else is refused.</summary>
    public List<string> Algorithms { get; set; } = [];

    /// <summary>
    /// The longest a token may be issued for (<c>exp - iat</c>, or <c>exp - now</c> when it has no
    /// <c>iat</c> or one in the future); a longer-lived token is refused. Must be positive.
    /// </summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Only certificate-bound tokens (<c>cnf</c> <c>x5t#S256</c>, RFC 8705), presented with that client
    /// certificate, whose subject CN is the token's participant. Needs Exchange:Tls:ClientCertificates=required.
    /// </summary>
    public bool RequireBoundTokens { get; set; }

    /// <summary>Tolerated clock difference; capped at 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
