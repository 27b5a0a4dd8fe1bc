using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Server.Hosting;
using Exchange.Server.Security;
using Exchange.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Exchange.Tests.Security;

/// <summary>
/// Certificates among the token signing keys: only one meant for signing may make its holder a
/// token issuer, never a CA or a TLS certificate that happens to sit in the key folder.
/// </summary>
public sealed class SigningCertificateTests : IDisposable
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const string CodeSigning = "1.3.6.1.5.5.7.3.3";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "exchange-signing-certs", Guid.NewGuid().ToString("N"));

    public SigningCertificateTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A self-signed certificate over <paramref name="key"/> (EC or RSA) with exactly the extensions asked for.</summary>
    private static X509Certificate2 Certificate(AsymmetricAlgorithm key, bool ca = false, X509KeyUsageFlags? usage = X509KeyUsageFlags.DigitalSignature, params string[] extendedUsages)
    {
        var request = key is RSA rsa
            ? new CertificateRequest("CN=token signer", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=token signer", (ECDsa)key, HashAlgorithmName.SHA256);
        if (ca)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        }

        if (usage is { } flags)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(flags, true));
        }

        if (extendedUsages.Length > 0)
        {
            var oids = new OidCollection();
            foreach (var oid in extendedUsages)
            {
                oids.Add(new Oid(oid));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private string Write(X509Certificate2 certificate, string name)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    public static TheoryData<string> RefusedKinds =>
        ["ca", "tls-server", "tls-client", "tls-both", "tls-and-code-signing", "no-key-usage", "key-encipherment-only", "tls-key-usages-without-eku"];

    private static X509Certificate2 OfKind(string kind, ECDsa key) => kind switch
    {
        "ca" => Certificate(key, ca: true, usage: X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign),
        "tls-server" => Certificate(key, extendedUsages: ServerAuth),
        "tls-client" => Certificate(key, extendedUsages: ClientAuth),
        "tls-both" => Certificate(key, extendedUsages: [ServerAuth, ClientAuth]),
        "no-key-usage" => Certificate(key, usage: null),
        "key-encipherment-only" => Certificate(key, usage: X509KeyUsageFlags.KeyEncipherment),
        "tls-and-code-signing" => Certificate(key, extendedUsages: [ServerAuth, CodeSigning]),
        "tls-key-usages-without-eku" => Certificate(key, usage: X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(RefusedKinds))]
    public void A_certificate_not_meant_for_signing_stops_the_start_naming_its_file(string kind)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = OfKind(kind, key);
        var file = Write(certificate, $"{kind}.crt");

        var error = Assert.Throws<StartupException>(() => new SigningKeyRing([_folder], TimeSpan.FromSeconds(10), TimeProvider.System, _ => false, NullLogger<SigningKeyRing>.Instance));
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_with_digital_signature_and_no_tls_usage_is_a_signing_key_under_its_spki_kid()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var plain = Certificate(key);
        using var codeSigning = Certificate(key, extendedUsages: CodeSigning);
        Write(plain, "plain.crt");
        Write(codeSigning, "code-signing.crt");

        var ring = new SigningKeyRing([_folder], TimeSpan.FromSeconds(10), TimeProvider.System, _ => false, NullLogger<SigningKeyRing>.Instance);
        Assert.Equal(2, ring.Keys().Count);
        Assert.All(ring.Keys(), k => Assert.Equal(TestTokens.KeyId(key), k.KeyId));
    }

    [Fact]
    public async Task A_folder_of_tls_client_certificates_does_not_make_their_holders_token_issuers()
    {
        var clients = Path.Combine(AppContext.BaseDirectory, "certs-dev", "clients");
        var (exit, error) = await Exchange.Tests.Smoke.Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-signing-certs", Guid.NewGuid().ToString("N"))}",
            $"--Exchange:Auth:SigningKeyFiles:1={clients}");
        Assert.Equal(1, exit);
        Assert.Contains(Path.Combine(clients, "acme.crt"), error, StringComparison.Ordinal);
        Assert.Contains("clientAuth", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tls_certificate_put_in_the_key_folder_while_running_is_refused_and_logged_and_a_signing_one_is_taken()
    {
        File.Copy(Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.pub"), Path.Combine(_folder, "dev.pem"));
        var logs = new CapturedLogs();
        // RS256: the JWT library verifies with RSA certificates only (an EC certificate's key never verified a token, see notes).
        using var factory = ExchangeFactory.With(("Exchange:Auth:SigningKeyFiles:0", _folder), ("Exchange:Auth:KeyRefreshInterval", "00:00:00.100"),
            ("Exchange:Auth:Algorithms:1", "RS256"));
        factory.Logs = logs;
        using var holder = RSA.Create(2048);
        var token = TestTokens.Sign(holder, TestTokens.Claims(Exchange.Cli.DevTokens.DefaultIssuer, "acme", ["provider"]));
        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, ExchangeFactory.Token("acme", "provider")));

        using (var tls = Certificate(holder, extendedUsages: ServerAuth))
        {
            Write(tls, "server.crt");
        }

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!logs.Lines.Any(l => l.Contains("server.crt", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the refused certificate was not logged within 5 s");
            Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, token));
            await Task.Delay(50);
        }

        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("serverAuth", StringComparison.Ordinal));
        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, token));

        // The same key in a certificate meant for signing is taken: the refusal was about the certificate, not the key.
        File.Delete(Path.Combine(_folder, "server.crt"));
        using (var signing = Certificate(holder))
        {
            Write(signing, "signing.crt");
        }

        deadline = DateTime.UtcNow.AddSeconds(5);
        while (await Rpc.ListDatasetsStatusAsync(factory, token) != StatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the signing certificate was not taken within 5 s");
            await Task.Delay(50);
        }
    }
}
