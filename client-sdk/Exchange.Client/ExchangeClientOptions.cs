using System.Security.Cryptography.X509Certificates;
using Exchange.Client.Audit;
using Exchange.Transparency;

namespace Exchange.Client;

/// <summary>How an <see cref="ExchangeClient"/> reaches and authenticates to a gateway.</summary>
public sealed class ExchangeClientOptions
{
    /// <summary>The gateway address, e.g. <c>https://127.0.0.1:5001</c>.</summary>
    public Uri? Address { get; set; }

    /// <summary>
    /// A PEM file with the CA certificate(s) to trust for the gateway's TLS certificate, in
    /// addition to the system trust store (e.g. <c>certs-dev/ca.crt</c>). The host name is
    /// always checked. A relative path is looked up in the current directory, then beside the
    /// application; when neither has it, the client's constructor throws a
    /// <see cref="FileNotFoundException"/> naming where it looked.
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

    /// <summary>
    /// The audit log's note verifier key (<c>name+keyid+key</c>, as the gateway's operator publishes
    /// it) that every transfer receipt's checkpoint must be signed by. When null, the key stored
    /// with that log's trusted checkpoint is required; for a log never trusted yet, see <see cref="TrustOnFirstUse"/>.
    /// A key a receipt itself names is never used.
    /// </summary>
    public NoteVerifierKey? AuditLogKey { get; set; }

    /// <summary>
    /// Where, for every audit log this client trusts (by origin, key and log id, see <see cref="Audit.TrustedLog"/>),
    /// the last checkpoint it accepted and the key that signed it are kept between runs (the CLI's
    /// <c>~/.exchange/trusted/logs.json</c> is one). Every later receipt's checkpoint of that log must be
    /// consistent with it, so a forked or rolled-back log is refused; a newer one replaces it; a log
    /// never seen (another database behind the same address) is trusted on its own. When null, they
    /// are kept in memory for this client's lifetime.
    /// </summary>
    public TrustedCheckpointStore? TrustedCheckpoints { get; set; }

    /// <summary>
    /// When no key is pinned or stored yet: true (the default) trusts the key the gateway publishes
    /// (GetCheckpoint) for the first receipt and keeps it; false refuses every receipt until
    /// <see cref="AuditLogKey"/> is set.
    /// </summary>
    public bool TrustOnFirstUse { get; set; } = true;

    /// <summary>Sets <see cref="TokenProvider"/> to always send <paramref name="token"/>.</summary>
    public ExchangeClientOptions UseToken(string token)
    {
        TokenProvider = _ => ValueTask.FromResult<string?>(token);
        return this;
    }
}
