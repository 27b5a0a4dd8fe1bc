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

    /// <summary>The environment variable that names the dev signing key when --key is not given.</summary>
    public const string KeyVariable = "EXCHANGE_DEV_KEY";

    /// <summary>The dev signing key in the current directory's certs-dev folder (the repository root's).</summary>
    public static readonly string DevKeyPath = Path.Combine("certs-dev", "jwt-signing.key");

    /// <summary>
    /// The signing key to use: <paramref name="given"/> (--key), else EXCHANGE_DEV_KEY, else
    /// ./certs-dev/jwt-signing.key; null with <paramref name="problem"/> saying what to do when the
    /// file is not there. The tool never carries a key of its own.
    /// </summary>
    public static string? FindKeyFile(string? given, out string problem)
    {
        var (path, from) = given is not null ? (given, "--key")
            : Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } variable ? (variable, KeyVariable)
            : (DevKeyPath, null);
        if (File.Exists(path))
        {
            problem = "";
            return path;
        }

        problem = from is null
            ? $"no signing key: {Path.GetFullPath(path)} does not exist. Run from the repository root (where certs-dev/ is), " +
              $"or pass --key FILE or set {KeyVariable} to the PEM EC P-256 key the gateway trusts (certs-dev/jwt-signing.key in development)."
            : $"no signing key: {path} (from {from}) does not exist; give the PEM EC P-256 key the gateway trusts (certs-dev/jwt-signing.key in development).";
        return null;
    }
}
