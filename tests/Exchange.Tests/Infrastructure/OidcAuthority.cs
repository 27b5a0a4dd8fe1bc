using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// An OpenID Connect authority of its own: real EC P-256 keys, a discovery document and a JWKS,
/// served to the gateway as its metadata backchannel (<see cref="Serve"/>), so the gateway's JWT
/// handler fetches and rotates them exactly as from a real identity provider. Its issuer is its
/// address, as OpenID Connect Discovery requires.
/// </summary>
public sealed class OidcAuthority : HttpMessageHandler
{
    public const string Address = "https://idp.exchange.test";

    private readonly ECDsa[] _keys;

    public OidcAuthority(int keys = 1)
    {
        _keys = [.. Enumerable.Range(0, keys).Select(_ => ECDsa.Create(ECCurve.NamedCurves.nistP256))];
    }

    /// <summary>The authority's issuer (<c>iss</c>), equal to <see cref="Address"/>.</summary>
    public string Issuer => Address;

    /// <summary>The authority's signing keys, all published in its JWKS.</summary>
    public IReadOnlyList<ECDsa> Keys => _keys;

    /// <summary>Gateway settings that make it trust this authority.</summary>
    public (string Key, string Value) Setting => ("Exchange:Auth:Authority", Address);

    /// <summary>Registers this authority as the gateway's metadata backchannel (for <see cref="ExchangeFactory.TestServices"/>).</summary>
    public void Serve(IServiceCollection services) =>
        services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt => jwt.BackchannelHttpHandler = this);

    /// <summary>A token this authority issues for <paramref name="participant"/>, signed with its first key.</summary>
    public string Mint(string participant, params string[] roles) => TestTokens.Sign(_keys[0], TestTokens.Claims(Issuer, participant, roles));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        object? document = request.RequestUri?.AbsolutePath switch
        {
            "/.well-known/openid-configuration" => new Dictionary<string, object>
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = $"{Address}/jwks",
                ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.EcdsaSha256 },
            },
            "/jwks" => new { keys = _keys.Select(Jwk).ToArray() },
            _ => null,
        };
        var response = document is null
            ? new HttpResponseMessage(HttpStatusCode.NotFound)
            : new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(JsonSerializer.Serialize(document), Encoding.UTF8, "application/json"),
            };
        return Task.FromResult(response);
    }

    internal static Dictionary<string, string> Jwk(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
            ["kid"] = TestTokens.KeyId(key),
            ["use"] = "sig",
            ["alg"] = SecurityAlgorithms.EcdsaSha256,
        };
    }
}
