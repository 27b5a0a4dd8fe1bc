namespace Exchange.WebConsole.Services;

/// <summary>How this gateway's console signs in, from <c>/console/settings.json</c> (the gateway's configuration; no secret).</summary>
/// <param name="Oidc">The OpenID Connect authority and the console's public client, when configured.</param>
/// <param name="TokenSignIn">Whether the sign-in page takes a pasted token (Development, or no OIDC).</param>
internal sealed record ConsoleSettings(OidcSettings? Oidc, bool TokenSignIn = true);
