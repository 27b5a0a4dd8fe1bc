using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Exchange.Server.Hosting;

/// <summary>
/// What a key or certificate file holds, whatever its encoding: the identities of the public keys
/// in it (of a certificate, a public key, or a private key's public half), so that the same key
/// re-encoded (SPKI or PKCS#1, PKCS#8 or SEC1, PEM with other wrapping or DER, or put in a
/// certificate) is recognised; and the hash of the file's bytes, for files that hold no key.
/// </summary>
internal static class KeyMaterial
{
    /// <summary>The identities of <paramref name="file"/>: its byte hash and one per public key found in it.</summary>
    public static HashSet<string> Identities(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var identities = new HashSet<string>(StringComparer.Ordinal) { "file:" + Convert.ToHexString(SHA256.HashData(bytes)) };
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        var found = false;
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            found = true;
            var label = rest[fields.Label].ToString();
            byte[] der;
            try
            {
                der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            }
            catch (FormatException)
            {
                der = [];
            }

            identities.UnionWith(FromDer(der, label));
            rest = rest[fields.Location.End..];
        }

        if (!found)
        {
            identities.UnionWith(FromDer(bytes, label: null));
        }

        return identities;
    }

    /// <summary>The public key identities in one DER object: of the kind <paramref name="label"/> says, or of any kind that parses.</summary>
    private static IEnumerable<string> FromDer(byte[] der, string? label)
    {
        var readers = label switch
        {
            "CERTIFICATE" or "TRUSTED CERTIFICATE" => [Certificate],
            "PUBLIC KEY" => [SubjectPublicKeyInfo],
            "RSA PUBLIC KEY" => [RsaPublicKey],
            "PRIVATE KEY" => [Pkcs8],
            "EC PRIVATE KEY" => [Sec1],
            "RSA PRIVATE KEY" => [RsaPrivateKey],
            null => new Func<byte[], string?>[] { Certificate, SubjectPublicKeyInfo, Pkcs8, Sec1, RsaPrivateKey, RsaPublicKey },
            _ => [],
        };
        foreach (var read in readers)
        {
            string? identity;
            try
            {
                identity = read(der);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException or FormatException or NotSupportedException)
            {
                identity = null;
            }

            if (identity is not null)
            {
                yield return identity;
            }
        }
    }

    private static string? Certificate(byte[] der)
    {
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        return Of(certificate.PublicKey);
    }

    private static string? SubjectPublicKeyInfo(byte[] der)
    {
        var key = PublicKey.CreateFromSubjectPublicKeyInfo(der, out var read);
        return read == der.Length ? Of(key) : null;
    }

    private static string? RsaPublicKey(byte[] der)
    {
        using var rsa = RSA.Create();
        rsa.ImportRSAPublicKey(der, out var read);
        return read == der.Length ? Of(rsa) : null;
    }

    private static string? RsaPrivateKey(byte[] der)
    {
        using var rsa = RSA.Create();
        rsa.ImportRSAPrivateKey(der, out var read);
        return read == der.Length ? Of(rsa) : null;
    }

    private static string? Sec1(byte[] der)
    {
        using var ec = ECDsa.Create();
        ec.ImportECPrivateKey(der, out var read);
        return read == der.Length ? Of(ec) : null;
    }

    /// <summary>A PKCS#8 private key: EC, RSA or Ed25519 (through NSec, as the audit signer reads it).</summary>
    private static string? Pkcs8(byte[] der)
    {
        using (var ec = ECDsa.Create())
        {
            try
            {
                ec.ImportPkcs8PrivateKey(der, out _);
                return Of(ec);
            }
            catch (CryptographicException)
            {
            }
        }

        using (var rsa = RSA.Create())
        {
            try
            {
                rsa.ImportPkcs8PrivateKey(der, out _);
                return Of(rsa);
            }
            catch (CryptographicException)
            {
            }
        }

        using var ed25519 = NSec.Cryptography.Key.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, der, NSec.Cryptography.KeyBlobFormat.PkixPrivateKey);
        return Raw(ed25519.PublicKey.Export(NSec.Cryptography.KeyBlobFormat.RawPublicKey));
    }

    /// <summary>EC and RSA keys by their numbers (not by how their parameters are encoded); others by the raw public key bits.</summary>
    private static string? Of(PublicKey key)
    {
        using (var ec = key.GetECDsaPublicKey())
        {
            if (ec is not null)
            {
                return Of(ec);
            }
        }

        using (var rsa = key.GetRSAPublicKey())
        {
            if (rsa is not null)
            {
                return Of(rsa);
            }
        }

        return Raw(key.EncodedKeyValue.RawData);
    }

    private static string Of(ECDsa ec)
    {
        var point = ec.ExportParameters(includePrivateParameters: false).Q;
        return "ec:" + Convert.ToHexString(SHA256.HashData([.. point.X!, .. point.Y!]));
    }

    private static string Of(RSA rsa)
    {
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return "rsa:" + Convert.ToHexString(SHA256.HashData([.. parameters.Modulus!, .. parameters.Exponent!]));
    }

    private static string Raw(ReadOnlySpan<byte> publicKey) => "key:" + Convert.ToHexString(SHA256.HashData(publicKey));
}
