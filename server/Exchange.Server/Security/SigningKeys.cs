using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>Loads token signing keys from PEM files: SPKI public keys (EC or RSA) or certificates.</summary>
internal static class SigningKeys
{
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
            key = new X509SecurityKey(certificate) { KeyId = KeyId(certificate.PublicKey.ExportSubjectPublicKeyInfo()) };
        }
        else
        {
            key = (SecurityKey?)TryEc(pem) ?? TryRsa(pem) ?? throw new StartupException(
                $"'{path}' holds no EC or RSA public key in PEM form.");
        }

        return key;
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
