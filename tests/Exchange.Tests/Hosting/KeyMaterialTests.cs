using System.Security.Cryptography;
using Exchange.Server.Hosting;

namespace Exchange.Tests.Hosting;

/// <summary>One key, however it is encoded, has the same identity; another key does not share it.</summary>
public sealed class KeyMaterialTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "exchange-key-material", Guid.NewGuid().ToString("N"));

    public KeyMaterialTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private HashSet<string> KeysIn(string name, byte[] content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, content);
        return [.. KeyMaterial.Identities(path).Where(i => !i.StartsWith("file:", StringComparison.Ordinal))];
    }

    private HashSet<string> KeysIn(string name, string content) => KeysIn(name, System.Text.Encoding.ASCII.GetBytes(content));

    [Fact]
    public void An_rsa_key_as_spki_pkcs1_pkcs8_or_der_public_or_private_is_one_key()
    {
        using var rsa = RSA.Create(2048);
        var forms = new[]
        {
            KeysIn("spki.pem", rsa.ExportSubjectPublicKeyInfoPem()),
            KeysIn("pkcs1-public.pem", rsa.ExportRSAPublicKeyPem()),
            KeysIn("pkcs1-private.pem", rsa.ExportRSAPrivateKeyPem()),
            KeysIn("pkcs8.pem", rsa.ExportPkcs8PrivateKeyPem()),
            KeysIn("pkcs1-public.der", rsa.ExportRSAPublicKey()),
            KeysIn("spki.der", rsa.ExportSubjectPublicKeyInfo()),
        };
        Assert.All(forms, form => Assert.Equal(forms[0], form));
        Assert.Single(forms[0]);

        using var other = RSA.Create(2048);
        Assert.False(KeysIn("other.pem", other.ExportSubjectPublicKeyInfoPem()).Overlaps(forms[0]));
    }

    [Fact]
    public void An_ec_key_in_a_certificate_is_the_key_itself()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x", ec, HashAlgorithmName.SHA384)
            .CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(KeysIn("key.pem", ec.ExportPkcs8PrivateKeyPem()), KeysIn("cert.der", certificate.RawData));
    }
}
