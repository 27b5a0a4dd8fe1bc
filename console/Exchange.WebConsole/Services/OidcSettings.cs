namespace Exchange.WebConsole.Services;

/// <summary>The console's OpenID Connect client: authorization code with PKCE, no secret.</summary>
/// <param name="Authority">The issuer, whose discovery document names the endpoints.</param>
/// <param name="ClientId">The console's public client id there.</param>
/// <param name="Scope">The scopes asked for.</param>
internal sealed record OidcSettings(string Authority, string ClientId, string Scope);
