using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.Infrastructure;

/// <summary>Hand-made ES256 tokens: exactly the claims and <c>kid</c> a test asks for, signed with any key.</summary>
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
    /// Signs exactly <paramref name="claims"/> with <paramref name="key"/>; the header's <c>kid</c> is
    /// <paramref name="kid"/>, the key's own id (base64url SHA-256 of its SPKI) when null, or absent when empty.
    /// </summary>
    public static string Sign(ECDsa key, IReadOnlyDictionary<string, object> claims, string? kid = null)
    {
        var securityKey = new ECDsaSecurityKey(key)
        {
            KeyId = kid ?? KeyId(key),
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        if (securityKey.KeyId.Length == 0)
        {
            securityKey.KeyId = null;
        }

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(System.Text.Json.JsonSerializer.Serialize(claims), new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256));
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
