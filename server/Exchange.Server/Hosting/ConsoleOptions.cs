namespace Exchange.Server.Hosting;

/// <summary>The web console at /console (Exchange:Console).</summary>
internal sealed class ConsoleOptions
{
    /// <summary>
    /// The console's client id at the OpenID Connect authority <c>Exchange:Auth:Authority</c>: a public
    /// client (authorization code with PKCE, no secret) whose redirect URI is
    /// <c>https://HOST:PORT/console/signin-callback</c>. Unset: no OIDC sign-in.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>The scopes the console asks for; the access token must carry the gateway's audience and a <c>roles</c> claim.</summary>
    public string Scope { get; set; } = "openid";

    /// <summary>
    /// Whether the sign-in page also takes a pasted token (from <c>exchange token</c>). Unset: in
    /// Development, or when there is no OIDC sign-in.
    /// </summary>
    public bool? TokenSignIn { get; set; }
}
