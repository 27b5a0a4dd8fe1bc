using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Client;
using Exchange.Client.Connection;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Cli;

/// <summary>
/// A connection that cannot be made (an untrusted or misnamed certificate, nothing listening) is
/// UNAVAILABLE with one line saying what to do, not INTERNAL with a stack of inner exceptions.
/// </summary>
public sealed class ConnectionErrorCliTests
{
    private static readonly string CertsDev = Path.Combine(AppContext.BaseDirectory, "certs-dev");

    private static string DevCaFile => Path.Combine(CertsDev, "ca.crt");

    private static Task<(int Exit, string Out, string Err)> Run(Uri server, params string[] args) =>
        ExchangeFactory.RunCliAsync(null,
            ["--server", server.ToString(), "--token", ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles), .. args, "datasets", "list"]);

    [Fact]
    public async Task Without_a_ca_the_dev_certificate_is_untrusted_and_the_cli_says_to_pass_ca()
    {
        using var gateway = ExchangeFactory.WithTls();

        var (exit, output, error) = await Run(gateway.TlsAddress);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: Unavailable: the gateway's TLS certificate at ", error);
        Assert.Contains("is not trusted", error);
        Assert.Contains("--ca", error);
        Assert.Contains("EXCHANGE_CA", error);
        Assert.Contains("certs-dev/ca.crt", error);
        Assert.DoesNotContain("Internal", error);
        Assert.DoesNotContain("HttpRequestException", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_download_from_a_gateway_whose_certificate_is_not_trusted_fails_at_once_and_leaves_nothing()
    {
        using var gateway = ExchangeFactory.WithTls();
        Directory.CreateDirectory(gateway.DataDirectory);
        var target = Path.Combine(gateway.DataDirectory, "copy.bin");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var (exit, _, error) = await ExchangeFactory.RunCliAsync(null,
        [
            "--server", gateway.TlsAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles),
            "download", "grants/abc123", "--purpose", "research", "-o", target, "--trusted", Path.Combine(gateway.DataDirectory, "trusted.json"),
        ]);

        Assert.Equal(1, exit);
        Assert.StartsWith("error: Unavailable: the gateway's TLS certificate at ", error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}: a certificate is not retried");
        Assert.False(File.Exists(target + ".partial"));
        Assert.False(File.Exists(target + ".partial.json"));
    }

    [Fact]
    public async Task With_the_wrong_ca_the_cli_names_the_file_it_was_given()
    {
        using var gateway = ExchangeFactory.WithTls();
        var foreign = Path.Combine(gateway.DataDirectory, "foreign-ca.crt");
        Directory.CreateDirectory(gateway.DataDirectory);
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=Foreign CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllTextAsync(foreign, ca.ExportCertificatePem());
        }

        var (exit, _, error) = await Run(gateway.TlsAddress, "--ca", foreign);

        Assert.Equal(1, exit);
        Assert.StartsWith("error: Unavailable: the gateway's TLS certificate at ", error);
        Assert.Contains($"does not chain to the CA in '{foreign}'", error);
        Assert.Contains("certs-dev/ca.crt", error);
    }

    [Fact]
    public async Task A_closed_port_asks_whether_the_gateway_is_running_there()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var address = new Uri($"https://127.0.0.1:{port}");

        var (exit, _, error) = await Run(address, "--ca", DevCaFile);

        Assert.Equal(1, exit);
        Assert.StartsWith($"error: Unavailable: nothing answers at https://127.0.0.1:{port}/ (connection refused)", error);
        Assert.Contains("is the gateway running", error);

        // The SDK's own error is UNAVAILABLE too, with the reason in its DebugException.
        using var client = new ExchangeClient(new ExchangeClientOptions { Address = address, CaCertificateFile = DevCaFile });
        var rpc = await Assert.ThrowsAsync<RpcException>(async () => await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
        Assert.Equal(StatusCode.Unavailable, rpc.StatusCode);
        Assert.Equal(ConnectionFailure.Refused, GatewayConnectionException.Describe(rpc, address)?.Failure);
    }

    [Fact]
    public async Task A_certificate_for_another_name_says_which_names_it_is_for()
    {
        // The dev certificate is for localhost, 127.0.0.1 and ::1: this gateway's is for exchange.example only.
        var directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var (certificateFile, keyFile) = (Path.Combine(directory, "server.crt"), Path.Combine(directory, "server.key"));
        using (var ca = X509Certificate2.CreateFromPemFile(DevCaFile, Path.Combine(CertsDev, "ca.key")))
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=exchange.example", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("exchange.example");
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var from = ca.NotBefore > DateTime.Now.AddDays(-1) ? new DateTimeOffset(ca.NotBefore) : DateTimeOffset.UtcNow.AddDays(-1);
            using var certificate = request.Create(ca, from, DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(8));
            await File.WriteAllTextAsync(certificateFile, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        }

        try
        {
            using var gateway = ExchangeFactory.WithTls(("Exchange:Tls:CertificateFile", certificateFile), ("Exchange:Tls:KeyFile", keyFile));

            var (exit, _, error) = await Run(gateway.TlsAddress, "--ca", DevCaFile);

            Assert.Equal(1, exit);
            Assert.StartsWith("error: Unavailable: the gateway's TLS certificate is for exchange.example, not 127.0.0.1", error);
            Assert.Contains($"--server https://exchange.example:{gateway.TlsAddress.Port}", error);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_ca_file_that_does_not_exist_is_named_with_where_it_was_looked_for()
    {
        var missing = Path.Combine("no-such-folder", "ca.crt");

        var error = Assert.Throws<FileNotFoundException>(() =>
            new ExchangeClient(new ExchangeClientOptions { Address = new Uri("https://127.0.0.1:5001"), CaCertificateFile = missing }));
        Assert.Contains($"'{missing}' does not exist", error.Message);
        Assert.Contains(Path.GetFullPath(missing), error.Message);
        Assert.Contains("certs-dev/ca.crt", error.Message);

        var (exit, _, cliError) = await Run(new Uri("https://127.0.0.1:5001"), "--ca", missing);
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: The CA certificate file '{missing}' does not exist", cliError);
    }
}
