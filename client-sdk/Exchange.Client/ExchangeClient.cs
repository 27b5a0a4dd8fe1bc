using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Exchange.Client.Audit;
using Exchange.Client.Connection;
using Exchange.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Exchange.Client;

/// <summary>
/// A connection to an Exchange gateway: one TLS channel, a bearer token attached to every call,
/// the generated service clients, and helpers for what callers would otherwise repeat.
/// Thread-safe; create one per gateway and reuse it.
/// </summary>
public sealed partial class ExchangeClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly LogTrust _logTrust;

    /// <summary>Opens a channel as <paramref name="options"/> describe.</summary>
    public ExchangeClient(ExchangeClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Address ?? throw new ArgumentException("Address is required.", nameof(options));
        var insecure = address.Scheme == Uri.UriSchemeHttp;
        if (insecure && !options.AllowInsecureTransport)
        {
            throw new ArgumentException(
                $"'{address}' is not encrypted; use https, or set AllowInsecureTransport for a local test server.", nameof(options));
        }

        var channelOptions = new GrpcChannelOptions
        {
            HttpHandler = options.HttpHandler ?? CreateHandler(options),
            DisposeHttpClient = true,
            UnsafeUseInsecureChannelCallCredentials = insecure,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        };
        if (options.TokenProvider is { } tokenProvider)
        {
            var credentials = CallCredentials.FromInterceptor(async (context, metadata) =>
            {
                var token = await tokenProvider(context.CancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(token))
                {
                    metadata.Add("authorization", $"Bearer {token}");
                }
            });
            channelOptions.Credentials = ChannelCredentials.Create(insecure ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl, credentials);
        }

        _channel = GrpcChannel.ForAddress(address, channelOptions);
        Catalog = new CatalogService.CatalogServiceClient(_channel);
        Access = new AccessService.AccessServiceClient(_channel);
        Transfers = new TransferService.TransferServiceClient(_channel);
        Audit = new AuditService.AuditServiceClient(_channel);
        Participants = new ParticipantService.ParticipantServiceClient(_channel);
        _logTrust = new LogTrust(this, options.AuditLogKey, options.TrustedCheckpoints, options.TrustOnFirstUse);
    }

    /// <summary>The underlying channel, for generated clients of other services.</summary>
    public ChannelBase Channel => _channel;

    /// <summary>exchange.v1.CatalogService.</summary>
    public CatalogService.CatalogServiceClient Catalog { get; }

    /// <summary>exchange.v1.AccessService.</summary>
    public AccessService.AccessServiceClient Access { get; }

    /// <summary>exchange.v1.TransferService.</summary>
    public TransferService.TransferServiceClient Transfers { get; }

    /// <summary>exchange.v1.AuditService.</summary>
    public AuditService.AuditServiceClient Audit { get; }

    /// <summary>exchange.v1.ParticipantService: participants' states; operators suspend and reinstate.</summary>
    public ParticipantService.ParticipantServiceClient Participants { get; }

    /// <summary>
    /// Every dataset matching <paramref name="filter"/> that the caller may see, fetching pages
    /// as the enumeration goes on. The filter's page_token is ignored; its page_size sets the
    /// page length.
    /// </summary>
    public IAsyncEnumerable<Dataset> ListDatasetsAsync(ListDatasetsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListDatasetsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Catalog.ListDatasetsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Datasets, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every access request matching <paramref name="filter"/> that the caller may see, page by page.</summary>
    public IAsyncEnumerable<AccessRequest> ListAccessRequestsAsync(ListAccessRequestsRequest? filter = null,
        CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListAccessRequestsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Access.ListAccessRequestsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.AccessRequests,
            p => p.NextPageToken, cancellationToken);

    /// <summary>Every grant matching <paramref name="filter"/> that the caller may see, page by page.</summary>
    public IAsyncEnumerable<Grant> ListGrantsAsync(ListGrantsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListGrantsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Access.ListGrantsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Grants, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every revision of <paramref name="dataset"/> (<c>datasets/{id}</c>), oldest first, page by page.</summary>
    public IAsyncEnumerable<Revision> ListRevisionsAsync(string dataset, CancellationToken cancellationToken = default) =>
        Pages(new ListRevisionsRequest { Parent = dataset }, (r, t) => r.PageToken = t,
            async (r, c) => await Catalog.ListRevisionsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Revisions, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every transfer matching <paramref name="filter"/> (grant, dataset, state) that the caller may see, page by page.</summary>
    public IAsyncEnumerable<Transfer> ListTransfersAsync(ListTransfersRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListTransfersRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Transfers.ListTransfersAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Transfers, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every audit event matching <paramref name="filter"/> that the caller may read, oldest first, page by page.</summary>
    public IAsyncEnumerable<AuditEvent> ListAuditEventsAsync(ListAuditEventsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListAuditEventsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Audit.ListAuditEventsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Events, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every participant with a recorded state matching <paramref name="filter"/> (auditors and operators), page by page.</summary>
    public IAsyncEnumerable<Participant> ListParticipantsAsync(ListParticipantsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListParticipantsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Participants.ListParticipantsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Participants,
            p => p.NextPageToken, cancellationToken);

    private static async IAsyncEnumerable<TItem> Pages<TRequest, TPage, TItem>(TRequest filter, Action<TRequest, string> setToken,
        Func<TRequest, CancellationToken, Task<TPage>> fetch, Func<TPage, IEnumerable<TItem>> items, Func<TPage, string> nextToken,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRequest : Google.Protobuf.IMessage<TRequest>
    {
        var request = filter.Clone();
        setToken(request, "");
        string token;
        do
        {
            var page = await fetch(request, cancellationToken).ConfigureAwait(false);
            foreach (var item in items(page))
            {
                yield return item;
            }

            token = nextToken(page);
            setToken(request, token);
        }
        while (token.Length > 0);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _channel.Dispose();
        _logTrust.Dispose();
    }

    private static HttpMessageHandler CreateHandler(ExchangeClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // A large stream window keeps bulk downloads from stalling on flow control.
            InitialHttp2StreamWindowSize = 8 * 1024 * 1024,
        };
        if (options.ClientCertificate is { } clientCertificate)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        X509Certificate2Collection? roots = null;
        if (options.CaCertificateFile is { } caFile)
        {
            roots = [];
            roots.ImportFromPemFile(ResolveCaFile(caFile));
        }

        var diagnostics = new TlsDiagnostics();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            Validate(roots, certificate, chain, errors, diagnostics);
        return new ConnectionErrorHandler(handler, diagnostics, options.CaCertificateFile);
    }

    /// <summary>
    /// <paramref name="path"/> as given when it exists (relative to the current directory), else
    /// relative to the application's own folder; otherwise a <see cref="FileNotFoundException"/>
    /// naming both places and what to do.
    /// </summary>
    internal static string ResolveCaFile(string path)
    {
        var here = Path.GetFullPath(path);
        if (File.Exists(here))
        {
            return here;
        }

        var besideApp = Path.IsPathRooted(path) ? null : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, path));
        if (besideApp is not null && File.Exists(besideApp))
        {
            return besideApp;
        }

        throw new FileNotFoundException(
            $"The CA certificate file '{path}' does not exist (looked for {here}" + (besideApp is null ? "" : $" and {besideApp}") +
            "): give the PEM file of the CA that issued the gateway's certificate by its full path, or relative to the current " +
            "directory (in development: certs-dev/ca.crt from the repository root).", here);
    }

    /// <summary>
    /// Accepts a server certificate the system already trusts, or one that chains to one of
    /// <paramref name="roots"/>; a host name mismatch is never accepted. A refusal is recorded in
    /// <paramref name="diagnostics"/>, to be explained.
    /// </summary>
    private static bool Validate(X509Certificate2Collection? roots, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors,
        TlsDiagnostics diagnostics)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        var untrusted = (errors & (SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0;
        var status = untrusted ? StatusText(chain) : "";
        if (untrusted && roots is not null && certificate is not null && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(roots);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var leaf = new X509Certificate2(certificate);
            untrusted = !custom.Build(leaf);
            status = untrusted ? StatusText(custom) : "";
        }

        var nameMismatch = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0;
        if (!untrusted && !nameMismatch)
        {
            return true;
        }

        diagnostics.Record(certificate, errors, untrusted, status);
        return false;
    }

    private static string StatusText(X509Chain? chain) => chain is null ? "" :
        string.Join(", ", chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct());
}
