using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace Exchange.WebConsole.Services;

/// <summary>
/// Sign-in with the OpenID Connect authority the gateway trusts: the authorization-code flow with
/// PKCE (S256) for a public client. The verifier and state wait in this tab's sessionStorage while
/// the browser is at the authority; the access token it returns becomes the session's token, sent
/// to the gateway like any other (which checks its issuer, audience, signature and roles).
/// </summary>
internal sealed class OidcSignIn(HttpClient http, IJSRuntime js, NavigationManager navigation, Session session, ConsoleSettings settings)
{
    private const string PendingKey = "exchange.oidc";

    public bool Enabled => settings.Oidc is not null;

    public string Authority => settings.Oidc?.Authority ?? "";

    private string RedirectUri => navigation.ToAbsoluteUri("signin-callback").ToString();

    /// <summary>Sends the browser to the authority's authorization endpoint.</summary>
    public async Task BeginAsync()
    {
        var oidc = settings.Oidc ?? throw new InvalidOperationException("No OpenID Connect authority is configured.");
        var discovery = await http.GetFromJsonAsync<JsonElement>($"{oidc.Authority}/.well-known/openid-configuration");
        var authorize = discovery.GetProperty("authorization_endpoint").GetString()!;
        var tokenEndpoint = discovery.GetProperty("token_endpoint").GetString()!;
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var state = Base64Url(RandomNumberGenerator.GetBytes(16));
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        await js.InvokeVoidAsync("sessionStorage.setItem", PendingKey, JsonSerializer.Serialize(new PendingSignIn(state, verifier, tokenEndpoint)));
        var query = string.Join('&',
            $"response_type=code",
            $"client_id={Uri.EscapeDataString(oidc.ClientId)}",
            $"redirect_uri={Uri.EscapeDataString(RedirectUri)}",
            $"scope={Uri.EscapeDataString(oidc.Scope)}",
            $"state={state}",
            $"code_challenge={challenge}",
            "code_challenge_method=S256");
        navigation.NavigateTo($"{authorize}{(authorize.Contains('?', StringComparison.Ordinal) ? '&' : '?')}{query}", forceLoad: true);
    }

    /// <summary>At the redirect URI: exchanges the code for a token; null, or why sign-in failed.</summary>
    public async Task<string?> CompleteAsync()
    {
        var oidc = settings.Oidc;
        var json = await js.InvokeAsync<string?>("sessionStorage.getItem", PendingKey);
        await js.InvokeVoidAsync("sessionStorage.removeItem", PendingKey);
        if (oidc is null || json is null || JsonSerializer.Deserialize<PendingSignIn>(json) is not { } pending)
        {
            return "No sign-in was started in this tab.";
        }

        var query = HttpUtility.ParseQueryString(new Uri(navigation.Uri).Query);
        if (query["error"] is { } error)
        {
            return $"The authority refused: {error} {query["error_description"]}".Trim();
        }

        if (query["state"] != pending.State || query["code"] is not { Length: > 0 } code)
        {
            return "The answer from the authority does not belong to the sign-in this tab started.";
        }

        using var response = await http.PostAsync(pending.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = RedirectUri,
            ["client_id"] = oidc.ClientId,
            ["code_verifier"] = pending.Verifier,
        }));
        if (!response.IsSuccessStatusCode)
        {
            return $"The authority's token endpoint answered {(int)response.StatusCode}.";
        }

        var tokens = await response.Content.ReadFromJsonAsync<JsonElement>();
        return tokens.TryGetProperty("access_token", out var access) && access.GetString() is { Length: > 0 } token
            ? await session.SignInAsync(token)
            : "The authority returned no access token.";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record PendingSignIn(string State, string Verifier, string TokenEndpoint);
}
