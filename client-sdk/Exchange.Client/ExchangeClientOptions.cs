using System.Security.Cryptography.X509Certificates;
using Exchange.Client.Audit;
using Exchange.Transparency;

namespace Exchange.Client;

/// <summary>
/// How an <see cref="ExchangeClient"/> reaches and authenticates to a gateway. The plain settings bind from
/// configuration (the section <see cref="SectionName"/>, see
/// <see cref="Microsoft.Extensions.DependencyInjection.ExchangeClientServiceCollectionExtensions"/>).
/// </summary>
public sealed class ExchangeClientOptions
{
    /// <summary>The configuration section the options bind from by default: <c>Exchange:Client</c>.</summary>
    public const string SectionName = "Exchange:Client";

    /// <summary>The default of <see cref="MaxReceiveMessageBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxReceiveMessageBytes = 16 * 1024 * 1024;

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

    /// <summary>
    /// A bearer token sent with every call, when <see cref="TokenProvider"/> is null (for configuration; a token
    /// that expires is better served by a <see cref="TokenProvider"/>).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>A client certificate for mutual TLS, when the gateway asks for one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Allows an <c>http://</c> address, sending tokens unencrypted. For in-process tests and
    /// loopback debugging only.
    /// </summary>
    public bool AllowInsecureTransport { get; set; }

    /// <summary>
    /// Replaces the HTTP handler (e.g. a test server's). <see cref="CaCertificateFile"/> and <see cref="ClientCertificate"/>,
    /// when set, are applied to it when it is (or, through delegating handlers, ends in) a <see cref="SocketsHttpHandler"/>
    /// or <see cref="HttpClientHandler"/> without certificate settings of its own; otherwise creating the client throws an
    /// <see cref="ArgumentException"/> saying they conflict. They are never silently dropped.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>The largest message the client accepts from the gateway, in bytes (default 16 MiB); null for no limit.</summary>
    public int? MaxReceiveMessageBytes { get; set; } = DefaultMaxReceiveMessageBytes;

    /// <summary>The largest message the client sends, in bytes; null (the default) for no limit. Uploads send 256 KiB chunks.</summary>
    public int? MaxSendMessageBytes { get; set; }

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
