using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Cli;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.Security;

/// <summary>
/// Mutual TLS over a real TLS connection, in each mode, against the certificates an attacker
/// or a careless client might present; and certificate-bound tokens (RFC 8705).
/// </summary>
public sealed class MutualTlsTests
{
    /// <summary>A connection whose certificate the gateway refuses is closed before any call is heard.</summary>
    private const StatusCode Refused = StatusCode.Unavailable;

    private static readonly string CertsDev = Path.Combine(AppContext.BaseDirectory, "certs-dev");

    private static X509Certificate2 Client(string participant) =>
        X509Certificate2.CreateFromPemFile(Path.Combine(CertsDev, "clients", $"{participant}.crt"), Path.Combine(CertsDev, "clients", $"{participant}.key"));

    private static X509Certificate2 DevCa() => X509Certificate2.CreateFromPemFile(Path.Combine(CertsDev, "ca.crt"), Path.Combine(CertsDev, "ca.key"));

    /// <summary>A certificate for <paramref name="name"/> issued by <paramref name="issuer"/> (or a new foreign CA), valid when and for what is asked.</summary>
    private static X509Certificate2 Issue(string name, X509Certificate2? issuer = null, bool expired = false, string usage = "1.3.6.1.5.5.7.3.2")
    {
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        issuer ??= new CertificateRequest("CN=Foreign CA", issuerKey, HashAlgorithmName.SHA256)
        {
            CertificateExtensions = { new X509BasicConstraintsExtension(true, false, 0, true) },
        }.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        // Within the issuer's own validity (the dev CA may be younger than a day).
        var from = issuer.NotBefore > DateTime.Now.AddDays(-1) ? new DateTimeOffset(issuer.NotBefore) : DateTimeOffset.UtcNow.AddDays(-1);
        var until = expired ? DateTimeOffset.UtcNow.AddSeconds(-5) : DateTimeOffset.UtcNow.AddDays(30);
        using var issued = request.Create(issuer, from, until, RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    private static string Token(string participant = "acme", X509Certificate2? boundTo = null) =>
        DevTokens.Mint(ExchangeFactory.DevKeyFile, participant, ["provider"], TimeSpan.FromMinutes(5),
            boundCertificate: boundTo is null ? null : Base64UrlEncoder.Encode(SHA256.HashData(boundTo.RawData)));

    private static async Task<StatusCode> CallAsync(ExchangeFactory gateway, string? token, X509Certificate2? certificate)
    {
        using var client = gateway.TlsClient(token, certificate);
        try
        {
            await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
            return StatusCode.OK;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Internal && ex.Status.DebugException is HttpRequestException or IOException)
        {
            // Under TLS 1.3 the client may finish its side of the handshake and start the call before the
            // server has judged its certificate; the connection then closes under the call, not before it.
            return Refused;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    private static ExchangeFactory Gateway(string mode) => ExchangeFactory.WithTls(
        ("Exchange:Tls:ClientCertificates", mode), ("Exchange:Tls:ClientCaFile", Path.Combine(CertsDev, "ca.crt")));

    [Fact]
    public async Task With_client_certificates_required_only_a_certificate_from_the_client_ca_meant_for_clients_and_still_valid_gets_in()
    {
        using var gateway = Gateway("required");
        using var acme = Client("acme");
        using var ca = DevCa();
        using var foreign = Issue("acme", issuer: null);
        using var expired = Issue("acme", ca, expired: true);
        using var serverOnly = Issue("acme", ca, usage: "1.3.6.1.5.5.7.3.1");

        Assert.Equal(StatusCode.OK, await CallAsync(gateway, Token(), acme));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), null));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), foreign));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), expired));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), serverOnly));
    }

    [Fact]
    public async Task With_client_certificates_optional_none_is_fine_but_a_bad_one_is_refused()
    {
        using var gateway = Gateway("optional");
        using var ca = DevCa();
        using var foreign = Issue("acme", issuer: null);
        using var expired = Issue("acme", ca, expired: true);
        using var acme = Client("acme");

        Assert.Equal(StatusCode.OK, await CallAsync(gateway, Token(), null));
        Assert.Equal(StatusCode.OK, await CallAsync(gateway, Token(), acme));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), foreign));
        Assert.Equal(Refused, await CallAsync(gateway, Token(), expired));
    }

    [Fact]
    public async Task A_certificate_bound_token_works_only_over_a_connection_with_that_certificate()
    {
        using var gateway = Gateway("optional");
        using var acme = Client("acme");
        using var globex = Client("globex");
        var bound = Token("acme", boundTo: acme);

        Assert.Equal(StatusCode.OK, await CallAsync(gateway, bound, acme));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(gateway, bound, globex));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(gateway, bound, null));
    }

    [Fact]
    public async Task Without_client_certificates_a_bound_token_cannot_be_checked_and_is_refused()
    {
        using var gateway = ExchangeFactory.WithTls();
        using var acme = Client("acme");
        Assert.Equal(StatusCode.OK, await CallAsync(gateway, Token(), null));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(gateway, Token("acme", boundTo: acme), acme));
    }

    [Fact]
    public async Task The_cli_mints_a_bound_token_and_calls_with_its_client_certificate()
    {
        using var gateway = Gateway("required");
        var acme = Path.Combine(CertsDev, "clients", "acme");
        var (mintExit, token, _) = await RunCliAsync("token", "-p", "acme", "-r", "provider", "--bind-cert", acme + ".crt");
        Assert.Equal(0, mintExit);
        string[] connection = ["--server", gateway.TlsAddress.ToString(), "--ca", Path.Combine(CertsDev, "ca.crt"), "--token", token.Trim()];

        var (exit, _, error) = await RunCliAsync([.. connection, "--client-cert", acme + ".crt", "--client-key", acme + ".key", "datasets", "list"]);
        Assert.True(exit == 0, error);

        var globex = Path.Combine(CertsDev, "clients", "globex");
        (exit, _, error) = await RunCliAsync([.. connection, "--client-cert", globex + ".crt", "--client-key", globex + ".key", "datasets", "list"]);
        Assert.Equal(1, exit);
        Assert.Contains("bound to another client certificate", error);
    }

    private static ExchangeFactory BoundTokensGateway() => ExchangeFactory.WithTls(
        ("Exchange:Tls:ClientCertificates", "required"), ("Exchange:Tls:ClientCaFile", Path.Combine(CertsDev, "ca.crt")),
        ("Exchange:Auth:RequireBoundTokens", "true"));

    private static async Task<string> RefusedAsync(ExchangeFactory gateway, string token, X509Certificate2 certificate)
    {
        using var client = gateway.TlsClient(token, certificate);
        var error = await Rpc.FailsWith(StatusCode.Unauthenticated, client.Catalog.ListDatasetsAsync(new ListDatasetsRequest(), deadline: DateTime.UtcNow.AddSeconds(20)));
        return error.Status.Detail;
    }

    [Fact]
    public async Task With_bound_tokens_required_a_token_without_cnf_is_refused_even_over_a_valid_client_certificate()
    {
        using var gateway = BoundTokensGateway();
        using var acme = Client("acme");

        var detail = await RefusedAsync(gateway, Token("acme"), acme);
        Assert.Contains("certificate-bound token is required", detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.OK, await CallAsync(gateway, Token("acme", boundTo: acme), acme));
    }

    [Fact]
    public async Task With_bound_tokens_required_the_client_certificate_must_name_the_tokens_participant()
    {
        using var gateway = BoundTokensGateway();
        using var acme = Client("acme");
        using var ca = DevCa();
        using var unnamed = Issue("acme.example", ca);

        // acme's own certificate and key, with a token that speaks for globex bound to it.
        var detail = await RefusedAsync(gateway, Token("globex", boundTo: acme), acme);
        Assert.Contains("CN", detail, StringComparison.Ordinal);
        Assert.Contains("globex", detail, StringComparison.Ordinal);

        // A certificate from the client CA whose CN is no participant id.
        await RefusedAsync(gateway, Token("acme", boundTo: unnamed), unnamed);
    }

    [Theory]
    [InlineData("off")]
    [InlineData("optional")]
    public async Task Requiring_bound_tokens_without_required_client_certificates_refuses_to_start(string mode)
    {
        var (exit, error) = await Exchange.Tests.Smoke.Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-mtls", Guid.NewGuid().ToString("N"))}",
            $"--Exchange:Tls:ClientCertificates={mode}", $"--Exchange:Tls:ClientCaFile={Path.Combine(CertsDev, "ca.crt")}",
            "--Exchange:Auth:RequireBoundTokens=true");
        Assert.Equal(1, exit);
        Assert.Contains("Exchange:Auth:RequireBoundTokens", error, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args) => ExchangeFactory.RunCliAsync(null, args);

    [Fact]
    public async Task Mutual_tls_with_a_plain_http_endpoint_refuses_to_start()
    {
        var (exit, error) = await Exchange.Tests.Smoke.Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-mtls", Guid.NewGuid().ToString("N"))}",
            "--urls", "http://127.0.0.1:0", "--Exchange:Tls:ClientCertificates=required", $"--Exchange:Tls:ClientCaFile={Path.Combine(CertsDev, "ca.crt")}");
        Assert.Equal(1, exit);
        Assert.Contains("includes plain http", error, StringComparison.Ordinal);
    }
}
