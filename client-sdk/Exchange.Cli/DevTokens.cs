using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Cli;

/// <summary>Mints bearer tokens signed with a local EC P-256 key (the certs-dev key, for development).</summary>
internal static class DevTokens
{
    public const string DefaultIssuer = "exchange-dev";
    public const string DefaultAudience = "exchange";

    /// <summary>
    /// A token for <paramref name="participant"/> with <paramref name="roles"/>; bound (RFC 8705,
    /// <c>cnf</c> <c>x5t#S256</c>) to the client certificate with thumbprint <paramref name="boundCertificate"/>, if given.
    /// </summary>
    public static string Mint(string keyFile, string participant, IEnumerable<string> roles, TimeSpan lifetime,
        string issuer = DefaultIssuer, string audience = DefaultAudience, DateTimeOffset? now = null, string? boundCertificate = null)
    {
        using var ec = ECDsa.Create();
        ec.ImportFromPem(File.ReadAllText(keyFile));
        var key = new ECDsaSecurityKey(ec)
        {
            KeyId = Base64UrlEncoder.Encode(SHA256.HashData(ec.ExportSubjectPublicKeyInfo())),
            // The key is disposed after this call; a cached signature provider would outlive it.
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        var issuedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + lifetime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = participant,
                ["roles"] = roles.ToArray(),
            },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256),
        };
        if (boundCertificate is not null)
        {
            descriptor.Claims["cnf"] = new Dictionary<string, object> { ["x5t#S256"] = boundCertificate };
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>Where the dev signing key is: beside the tool, else in ./certs-dev.</summary>
    public static string DefaultKeyFile()
    {
        var besideTool = Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.key");
        return File.Exists(besideTool) ? besideTool : Path.Combine("certs-dev", "jwt-signing.key");
    }
}
