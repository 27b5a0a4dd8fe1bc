using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// Which client certificates the gateway accepts: those that chain to the configured client CA
/// (not the system store), are within their validity period, and are meant for client
/// authentication (extended key usage clientAuth). Revocation lists are not consulted.
/// </summary>
internal sealed class ClientCertificateTrust(X509Certificate2Collection roots, TimeProvider time)
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    public bool Accepts(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        return chain.Build(certificate);
    }

    /// <summary>The RFC 8705 confirmation of a certificate: base64url SHA-256 of its DER encoding (<c>x5t#S256</c>).</summary>
    public static string Thumbprint(X509Certificate2 certificate) => Base64UrlEncoder.Encode(SHA256.HashData(certificate.RawData));
}
