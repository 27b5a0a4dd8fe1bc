using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Smoke;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.WebConsole;

/// <summary>
/// An OpenID Connect authority on a real loopback HTTPS port (the dev server certificate), for a
/// browser to sign in at: discovery, JWKS, an authorization endpoint that signs the one configured
/// user in at once, and a token endpoint that checks the code, the redirect URI, the client and the
/// PKCE verifier (S256) before it issues an access token for the gateway.
/// </summary>
internal sealed class LoopbackAuthority(string clientId, string participant, params string[] roles) : IAsyncDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ConcurrentDictionary<string, (string Challenge, string RedirectUri)> _codes = new();
    private WebApplication? _app;

    public int Port { get; } = Tools.FreePort();

    public string Issuer => $"https://127.0.0.1:{Port}";

    /// <summary>Access tokens issued (each after its PKCE verifier matched).</summary>
    public int TokensIssued { get; private set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var certs = Path.Combine(Tools.RepositoryRoot(), "certs-dev");
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(certs, "server.crt"), Path.Combine(certs, "server.key"));
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) =>
        {
            context.Response.Headers.AccessControlAllowOrigin = "*";
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = Issuer,
                ["authorization_endpoint"] = $"{Issuer}/authorize",
                ["token_endpoint"] = $"{Issuer}/token",
                ["jwks_uri"] = $"{Issuer}/jwks",
                ["response_types_supported"] = new[] { "code" },
                ["code_challenge_methods_supported"] = new[] { "S256" },
                ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.EcdsaSha256 },
            });
        });
        app.MapGet("/jwks", () => Results.Json(new { keys = new[] { OidcAuthority.Jwk(_key) } }));
        app.MapGet("/authorize", (HttpContext context) =>
        {
            var q = context.Request.Query;
            if (q["client_id"] != clientId || q["response_type"] != "code" || q["code_challenge_method"] != "S256" ||
                string.IsNullOrEmpty(q["code_challenge"]) || string.IsNullOrEmpty(q["state"]) || string.IsNullOrEmpty(q["redirect_uri"]))
            {
                return Results.BadRequest("not an authorization-code request with PKCE from the registered client");
            }

            var code = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _codes[code] = (q["code_challenge"]!, q["redirect_uri"]!);
            return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"]!)}");
        });
        app.MapPost("/token", async (HttpContext context) =>
        {
            context.Response.Headers.AccessControlAllowOrigin = context.Request.Headers.Origin.ToString();
            var form = await context.Request.ReadFormAsync();
            if (form["grant_type"] != "authorization_code" || form["client_id"] != clientId ||
                !_codes.TryRemove(form["code"].ToString(), out var issued) || form["redirect_uri"] != issued.RedirectUri ||
                Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge)
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }

            TokensIssued++;
            return Results.Json(new
            {
                access_token = TestTokens.Sign(_key, TestTokens.Claims(Issuer, participant, roles)),
                token_type = "Bearer",
                expires_in = 300,
            });
        });
        await app.StartAsync();
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _key.Dispose();
    }
}
