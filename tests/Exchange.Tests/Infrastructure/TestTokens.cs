using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.Infrastructure;

/// <summary>Hand-made ES256 (or RS256) tokens: exactly the claims and <c>kid</c> a test asks for, signed with any key.</summary>
public static class TestTokens
{
    /// <summary>The usual claims of a valid token from <paramref name="issuer"/> for <paramref name="participant"/>.</summary>
    public static Dictionary<string, object> Claims(string issuer, string participant, string[] roles, TimeSpan? lifetime = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = Exchange.Cli.DevTokens.DefaultAudience,
            ["sub"] = participant,
            ["roles"] = roles,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.Add(lifetime ?? TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
        };
    }

    /// <summary>
    /// Signs exactly <paramref name="claims"/> with <paramref name="key"/> (ES256 for an EC key, RS256 for RSA); the
    /// header's <c>kid</c> is <paramref name="kid"/>, the key's own id (base64url SHA-256 of its SPKI) when null, or absent when empty.
    /// </summary>
    public static string Sign(AsymmetricAlgorithm key, IReadOnlyDictionary<string, object> claims, string? kid = null)
    {
        AsymmetricSecurityKey securityKey = key switch
        {
            ECDsa ec => new ECDsaSecurityKey(ec),
            RSA rsa => new RsaSecurityKey(rsa),
            _ => throw new ArgumentException("an EC or RSA key", nameof(key)),
        };
        kid ??= KeyId(key);
        securityKey.KeyId = kid.Length == 0 ? null : kid;
        securityKey.CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false };
        var algorithm = key is RSA ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256;
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(System.Text.Json.JsonSerializer.Serialize(claims), new SigningCredentials(securityKey, algorithm));
    }

    /// <summary>The key id the gateway gives a key: base64url SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static string KeyId(AsymmetricAlgorithm key) => Base64UrlEncoder.Encode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    /// <summary>The dev token signing key (certs-dev/jwt-signing.key).</summary>
    public static ECDsa DevKey()
    {
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(ExchangeFactory.DevKeyFile));
        return key;
    }
}
