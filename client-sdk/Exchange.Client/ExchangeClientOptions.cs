using System.Security.Cryptography.X509Certificates;

namespace Exchange.Client;

/// <summary>How an <see cref="ExchangeClient"/> reaches and authenticates to a gateway.</summary>
public sealed class ExchangeClientOptions
{
    /// <summary>The gateway address, e.g. <c>https://127.0.0.1:5001</c>.</summary>
    public Uri? Address { get; set; }

    /// <summary>
    /// A PEM file with the CA certificate(s) to trust for the gateway's TLS certificate, in
    /// addition to the system trust store (e.g. <c>certs-dev/ca.crt</c>). The host name is
    /// always checked.
    /// </summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>
    /// Supplies the bearer token for each call; called before every call so that a provider
    /// can refresh tokens. Return null to call without a token.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? TokenProvider { get; set; }

    /// <summary>A client certificate for mutual TLS, when the gateway asks for one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Allows an <c>http://</c> address, sending tokens unencrypted. For in-process tests and
    /// loopback debugging only.
    /// </summary>
    public bool AllowInsecureTransport { get; set; }

    /// <summary>Replaces the HTTP handler (e.g. a test server's); TLS settings above are then not applied.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Sets <see cref="TokenProvider"/> to always send <paramref name="token"/>.</summary>
    public ExchangeClientOptions UseToken(string token)
    {
        TokenProvider = _ => ValueTask.FromResult<string?>(token);
        return this;
    }
}
