using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Exchange.Server.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Exchange.Tests.Hosting;

public sealed class DevKeyGuardTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "exchange-own-keys", Guid.NewGuid().ToString("N"));

    public DevKeyGuardTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "Exchange.Server";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    private static string Dev(string name) => Path.Combine(AppContext.BaseDirectory, "certs-dev", name);

    private static ExchangeOptions DevOptions() => new()
    {
        Auth = { Issuer = "exchange-dev", SigningKeyFiles = ["certs-dev/jwt-signing.pub"] },
        Tls = { CertificateFile = "certs-dev/server.crt", KeyFile = "certs-dev/server.key" },
        Audit = { SigningKeyFile = "certs-dev/audit-signing.key" },
    };

    /// <summary>Options with a signing key and a key-encryption key of their own, in a folder that is not certs-dev.</summary>
    private ExchangeOptions OwnOptions()
    {
        using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new ExchangeOptions
        {
            Auth = { Issuer = "corp", SigningKeyFiles = [Write("signing.pem", signing.ExportSubjectPublicKeyInfoPem())] },
        };
        options.Encryption.KeyFiles["k1"] = Write("kek.key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return options;
    }

    private string Write(string name, string text) => Write(name, Encoding.ASCII.GetBytes(text));

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static StartupException Refused(string environment, ExchangeOptions options) =>
        Assert.Throws<StartupException>(() => DevKeyGuard.ThrowIfDevKeysOutsideDevelopment(new Environment(environment), options));

    [Fact]
    public void Development_may_use_the_dev_keys_and_the_generated_key_encryption_key() =>
        DevKeyGuard.ThrowIfDevKeysOutsideDevelopment(new Environment("Development"), DevOptions());

    [Fact]
    public void Keys_of_its_own_are_accepted_outside_Development() =>
        DevKeyGuard.ThrowIfDevKeysOutsideDevelopment(new Environment("Production"), OwnOptions());

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("Test")]
    [InlineData("development-like")]
    public void Every_environment_but_Development_refuses_the_dev_keys(string environment)
    {
        var ex = Refused(environment, DevOptions());
        Assert.Contains("certs-dev", ex.Message);
    }

    [Fact]
    public void Production_refuses_a_copy_of_a_dev_key_under_another_name()
    {
        var options = OwnOptions();
        options.Auth.SigningKeyFiles = [Write("innocent.pub", File.ReadAllBytes(Dev("jwt-signing.pub")))];
        var ex = Refused("Production", options);
        Assert.Contains("development key", ex.Message);
    }

    [Fact]
    public void Production_without_any_signing_key_refuses_to_start()
    {
        var ex = Refused("Production", new ExchangeOptions());
        Assert.Contains("Exchange:Auth", ex.Message);
    }

    [Fact]
    public void Outside_Development_the_dev_ca_is_not_a_client_ca_even_in_a_certificate_reissued_over_its_key()
    {
        var options = OwnOptions();
        options.Tls.ClientCaFile = Dev("ca.crt");
        Assert.Contains("Exchange:Tls:ClientCaFile", Refused("Staging", options).Message);

        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(Dev("ca.key")));
        var request = new CertificateRequest("CN=Corp Client CA", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var reissued = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var own = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ownCa = new CertificateRequest("CN=Own CA", own, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddYears(1));
        options.Tls.ClientCaFile = Write("client-ca.pem", ownCa.ExportCertificatePem() + "\n" + reissued.ExportCertificatePem());
        Assert.Contains("Exchange:Tls:ClientCaFile", Refused("Production", options).Message);
    }

    [Fact]
    public void Outside_Development_key_encryption_keys_must_be_configured()
    {
        var options = OwnOptions();
        options.Encryption.KeyFiles.Clear();
        var ex = Refused("Production", options);
        Assert.Contains("Exchange:Encryption:KeyFiles", ex.Message);
        Assert.Contains("data directory", ex.Message);
    }

    [Fact]
    public void Outside_Development_no_certs_dev_file_is_a_key_encryption_key()
    {
        var options = OwnOptions();
        options.Encryption.KeyFiles["dev"] = "certs-dev/jwt-signing.key";
        Assert.Contains("Exchange:Encryption:KeyFiles:dev", Refused("Production", options).Message);
    }

    [Theory]
    [InlineData("the jwt public key in a certificate")]
    [InlineData("the jwt public key rewrapped with CRLF")]
    [InlineData("the jwt public key as DER")]
    [InlineData("the jwt private key as SEC1 EC PRIVATE KEY")]
    [InlineData("the server key as PKCS#8 DER")]
    [InlineData("the server certificate rewrapped")]
    [InlineData("the audit key rewrapped")]
    public void A_dev_key_however_re_encoded_is_recognised_by_its_key_material(string form)
    {
        var options = OwnOptions();
        using var jwt = ECDsa.Create();
        jwt.ImportFromPem(File.ReadAllText(Dev("jwt-signing.key")));
        using var server = ECDsa.Create();
        server.ImportFromPem(File.ReadAllText(Dev("server.key")));
        switch (form)
        {
            case "the jwt public key in a certificate":
                using (var certificate = new CertificateRequest("CN=Corp token signer", jwt, HashAlgorithmName.SHA256)
                    .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)))
                {
                    options.Auth.SigningKeyFiles = [Write("corp-signer.crt", certificate.ExportCertificatePem())];
                }

                break;
            case "the jwt public key rewrapped with CRLF":
                options.Auth.SigningKeyFiles = [Write("corp.pem", Rewrap(File.ReadAllText(Dev("jwt-signing.pub")), 20, "\r\n"))];
                break;
            case "the jwt public key as DER":
                options.Auth.SigningKeyFiles = [Write("corp.der", jwt.ExportSubjectPublicKeyInfo())];
                break;
            case "the jwt private key as SEC1 EC PRIVATE KEY":
                options.Auth.SigningKeyFiles = [Write("corp.pem", jwt.ExportECPrivateKeyPem())];
                break;
            case "the server key as PKCS#8 DER":
                options.Tls.KeyFile = Write("tls.key", server.ExportPkcs8PrivateKey());
                break;
            case "the server certificate rewrapped":
                options.Tls.CertificateFile = Write("tls.crt", Rewrap(File.ReadAllText(Dev("server.crt")), 64, "\n\n"));
                break;
            case "the audit key rewrapped":
                options.Audit.SigningKeyFile = Write("audit.key", "\n\n" + Rewrap(File.ReadAllText(Dev("audit-signing.key")), 16, "\r\n") + "\n");
                break;
        }

        Assert.Contains("development key", Refused("Production", options).Message);
    }

    [Fact]
    public void A_re_encoded_dev_key_put_in_place_while_running_is_recognised_outside_Development_only()
    {
        using var jwt = ECDsa.Create();
        jwt.ImportFromPem(File.ReadAllText(Dev("jwt-signing.key")));
        var file = Write("rotated.pem", jwt.ExportECPrivateKeyPem());
        using var own = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ownFile = Write("own.pem", own.ExportSubjectPublicKeyInfoPem());

        Assert.True(DevKeyGuard.IsDevKey(new Environment("Staging"))(file));
        Assert.False(DevKeyGuard.IsDevKey(new Environment("Staging"))(ownFile));
        Assert.False(DevKeyGuard.IsDevKey(new Environment("Development"))(file));
    }

    /// <summary>The same PEM object with its base64 in lines of <paramref name="width"/> separated by <paramref name="newline"/>.</summary>
    private static string Rewrap(string pem, int width, string newline)
    {
        var fields = PemEncoding.Find(pem);
        var base64 = string.Concat(pem[fields.Base64Data].Where(c => !char.IsWhiteSpace(c)));
        var label = pem[fields.Label];
        var lines = Enumerable.Range(0, (base64.Length + width - 1) / width).Select(i => base64.Substring(i * width, Math.Min(width, base64.Length - (i * width))));
        return $"-----BEGIN {label}-----{newline}{string.Join(newline, lines)}{newline}-----END {label}-----{newline}";
    }
}
