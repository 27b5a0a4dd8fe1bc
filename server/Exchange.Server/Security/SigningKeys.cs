using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>Loads token signing keys from PEM files: SPKI public keys (EC or RSA) or certificates meant for signing.</summary>
internal static class SigningKeys
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    public static SecurityKey Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StartupException($"Token signing key file '{path}' (Exchange:Auth:SigningKeyFiles) does not exist.");
        }

        var pem = File.ReadAllText(path);
        SecurityKey key;
        if (pem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
        {
            var certificate = X509Certificate2.CreateFromPem(pem);
            if (NotForSigning(certificate) is { } problem)
            {
                throw new StartupException($"'{path}' (Exchange:Auth:SigningKeyFiles) may not sign tokens: the certificate {problem}.");
            }

            key = new X509SecurityKey(certificate) { KeyId = KeyId(certificate.PublicKey.ExportSubjectPublicKeyInfo()) };
        }
        else
        {
            key = (SecurityKey?)TryEc(pem) ?? TryRsa(pem) ?? throw new StartupException(
                $"'{path}' holds no EC or RSA public key in PEM form.");
        }

        return key;
    }

    /// <summary>
    /// Why a certificate's holder may not issue tokens, or null: it must carry the digitalSignature
    /// key usage, and be neither a CA nor a certificate usable for TLS (a key-exchange key usage, or a
    /// serverAuth/clientAuth extended key usage), so that
    /// a folder of TLS certificates does not make every holder a token issuer.
    /// </summary>
    private static string? NotForSigning(X509Certificate2 certificate)
    {
        var extensions = certificate.Extensions;
        if (extensions.OfType<X509BasicConstraintsExtension>().Any(c => c.CertificateAuthority))
        {
            return "is a CA certificate (basicConstraints CA=true)";
        }

        if (extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is not { } usage
            || !usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            return "does not carry the digitalSignature key usage";
        }

        // TLS certificates carry digitalSignature too; what gives them away is a key-exchange usage or a TLS purpose.
        if ((usage.KeyUsages & (X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.DataEncipherment)) != 0)
        {
            return "also carries a key-exchange key usage (keyEncipherment, keyAgreement or dataEncipherment), as TLS certificates do";
        }

        if (extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } extended
            && extended.EnhancedKeyUsages.Cast<Oid>().Where(oid => oid.Value is ServerAuthentication or ClientAuthentication).ToList() is { Count: > 0 } tls)
        {
            var names = string.Join(", ", tls.Select(oid => oid.Value == ServerAuthentication ? "serverAuth" : "clientAuth"));
            return $"is meant for TLS (extended key usage {names})";
        }

        return null;
    }

    /// <summary>The key id tokens carry in <c>kid</c>: base64url SHA-256 of the SubjectPublicKeyInfo (of a certificate's public key too).</summary>
    public static string KeyId(byte[] subjectPublicKeyInfo) => Base64UrlEncoder.Encode(SHA256.HashData(subjectPublicKeyInfo));

    private static ECDsaSecurityKey? TryEc(string pem)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            ec.Dispose();
            return null;
        }
        catch (CryptographicException)
        {
            ec.Dispose();
            return null;
        }

        return new ECDsaSecurityKey(ec) { KeyId = KeyId(ec.ExportSubjectPublicKeyInfo()) };
    }

    private static RsaSecurityKey? TryRsa(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
            return null;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            return null;
        }

        return new RsaSecurityKey(rsa) { KeyId = KeyId(rsa.ExportSubjectPublicKeyInfo()) };
    }
}
