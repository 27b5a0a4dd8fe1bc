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
/// a method for every common operation, and the generated service clients for the rest.
/// Thread-safe; create one per gateway and reuse it.
/// </summary>
/// <remarks>
/// Naming: a name means one thing. A method named after an RPC (<c>CreateDatasetAsync</c>,
/// <c>ApproveAccessRequestAsync</c>, <c>RevokeGrantAsync</c>…) makes exactly that one call, here or on the
/// generated client (<see cref="Catalog"/>, <see cref="Access"/>, <see cref="Transfers"/>, <see cref="Audit"/>,
/// <see cref="Participants"/>); here it takes plain arguments and returns the resource. <c>List…Async</c> is only
/// ever the generated RPC, which returns one page; <c>Enumerate…Async</c> yields every item of every page as an
/// <see cref="IAsyncEnumerable{T}"/>. Operations of many calls are named for what they do
/// (<see cref="DownloadToFileAsync"/>, <see cref="UploadFileAsync"/>, <see cref="VerifyAuditLogAsync"/>).
/// </remarks>
public sealed partial class ExchangeClient : IDisposable
{
    private readonly IDisposable? _ownedChannel;
    private readonly LogTrust _logTrust;
    private readonly ExchangeClientOptions _options;

    /// <summary>Opens a channel as <paramref name="options"/> describe.</summary>
    /// <exception cref="ArgumentException">
    /// The address is missing or unencrypted without <see cref="ExchangeClientOptions.AllowInsecureTransport"/>, or
    /// <see cref="ExchangeClientOptions.HttpHandler"/> is set together with a CA file or client certificate that cannot be applied to it.
    /// </exception>
    public ExchangeClient(ExchangeClientOptions options)
        : this(Open(options), options)
    {
    }

    /// <summary>
    /// A client over a call invoker made elsewhere (e.g. by <c>GrpcClientFactory</c>, see
    /// <see cref="Microsoft.Extensions.DependencyInjection.ExchangeClientServiceCollectionExtensions.AddExchangeClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, string)"/>),
    /// which already carries the transport and credentials; of <paramref name="options"/> only the
    /// audit trust settings (<see cref="ExchangeClientOptions.AuditLogKey"/>, <see cref="ExchangeClientOptions.TrustedCheckpoints"/>,
    /// <see cref="ExchangeClientOptions.TrustOnFirstUse"/>) are used.
    /// </summary>
    public ExchangeClient(CallInvoker callInvoker, ExchangeClientOptions? options = null)
        : this((callInvoker ?? throw new ArgumentNullException(nameof(callInvoker)), null), options ?? new ExchangeClientOptions())
    {
    }

    private ExchangeClient((CallInvoker Invoker, GrpcChannel? Channel) connection, ExchangeClientOptions options)
    {
        _options = options;
        _ownedChannel = connection.Channel;
        CallInvoker = connection.Invoker;
        Channel = connection.Channel ?? (ChannelBase)new CallInvokerChannel(options.Address?.Authority ?? "exchange", connection.Invoker);
        Catalog = new CatalogService.CatalogServiceClient(CallInvoker);
        Access = new AccessService.AccessServiceClient(CallInvoker);
        Transfers = new TransferService.TransferServiceClient(CallInvoker);
        Audit = new AuditService.AuditServiceClient(CallInvoker);
        Participants = new ParticipantService.ParticipantServiceClient(CallInvoker);
        Compute = new ComputeService.ComputeServiceClient(CallInvoker);
        Rights = new RightsService.RightsServiceClient(CallInvoker);
        Lineage = new LineageService.LineageServiceClient(CallInvoker);
        Pricing = new PricingService.PricingServiceClient(CallInvoker);
        Billing = new BillingService.BillingServiceClient(CallInvoker);
        _logTrust = new LogTrust(this, options.AuditLogKey, options.TrustedCheckpoints, options.TrustOnFirstUse);
    }

    private static (CallInvoker, GrpcChannel?) Open(ExchangeClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Address ?? throw new ArgumentException("Address is required.", nameof(options));
        var insecure = CheckTransport(options);
        var channelOptions = new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(options),
            DisposeHttpClient = true,
            UnsafeUseInsecureChannelCallCredentials = insecure,
        };
        ApplyLimits(options, channelOptions);
        if (CallCredentialsOf(options) is { } credentials)
        {
            channelOptions.Credentials = ChannelCredentials.Create(insecure ? ChannelCredentials.Insecure : ChannelCredentials.SecureSsl, credentials);
        }

        var channel = GrpcChannel.ForAddress(address, channelOptions);
        return (channel.CreateCallInvoker(), channel);
    }

    /// <summary>Refuses an unencrypted address unless allowed; returns whether it is unencrypted.</summary>
    internal static bool CheckTransport(ExchangeClientOptions options)
    {
        var address = options.Address ?? throw new ArgumentException("Address is required.", nameof(options));
        var insecure = address.Scheme == Uri.UriSchemeHttp;
        if (insecure && !options.AllowInsecureTransport)
        {
            throw new ArgumentException(
                $"'{address}' is not encrypted; use https, or set AllowInsecureTransport for a local test server.", nameof(options));
        }

        return insecure;
    }

    /// <summary>Sets the channel's message size limits from <paramref name="options"/>.</summary>
    internal static void ApplyLimits(ExchangeClientOptions options, GrpcChannelOptions channelOptions)
    {
        channelOptions.MaxReceiveMessageSize = options.MaxReceiveMessageBytes;
        channelOptions.MaxSendMessageSize = options.MaxSendMessageBytes;
    }

    /// <summary>The bearer token credentials <paramref name="options"/> ask for, or null to call without a token.</summary>
    internal static CallCredentials? CallCredentialsOf(ExchangeClientOptions options)
    {
        var tokenProvider = options.TokenProvider ??
            (options.Token is { Length: > 0 } token ? _ => ValueTask.FromResult<string?>(token) : (Func<CancellationToken, ValueTask<string?>>?)null);
        return tokenProvider is null
            ? null
            : CallCredentials.FromInterceptor(async (context, metadata) =>
            {
                var value = await tokenProvider(context.CancellationToken).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(value))
                {
                    metadata.Add("authorization", $"Bearer {value}");
                }
            });
    }

    /// <summary>The underlying channel, for generated clients of other services (e.g. health, reflection).</summary>
    public ChannelBase Channel { get; }

    /// <summary>The call invoker every generated client of this connection uses.</summary>
    public CallInvoker CallInvoker { get; }

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

    /// <summary>exchange.v1.ComputeService: aggregate queries under a grant's analysis rule.</summary>
    public ComputeService.ComputeServiceClient Compute { get; }

    /// <summary>exchange.v1.RightsService: the rights registry; certificates verify offline (<see cref="Rights.RightCertificateVerifier"/>).</summary>
    public RightsService.RightsServiceClient Rights { get; }

    /// <summary>exchange.v1.LineageService: which datasets are derived from which, under which grants.</summary>
    public LineageService.LineageServiceClient Lineage { get; }

    /// <summary>exchange.v1.PricingService: offers on datasets and quotes.</summary>
    public PricingService.PricingServiceClient Pricing { get; }

    /// <summary>exchange.v1.BillingService: statements, billing periods and settlements.</summary>
    public BillingService.BillingServiceClient Billing { get; }

    /// <summary>
    /// Every dataset matching <paramref name="filter"/> that the caller may see, fetching pages
    /// as the enumeration goes on. The filter's page_token is ignored; its page_size sets the
    /// page length.
    /// </summary>
    public IAsyncEnumerable<Dataset> EnumerateDatasetsAsync(ListDatasetsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListDatasetsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Catalog.ListDatasetsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Datasets, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every access request matching <paramref name="filter"/> that the caller may see, page by page.</summary>
    public IAsyncEnumerable<AccessRequest> EnumerateAccessRequestsAsync(ListAccessRequestsRequest? filter = null,
        CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListAccessRequestsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Access.ListAccessRequestsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.AccessRequests,
            p => p.NextPageToken, cancellationToken);

    /// <summary>Every grant matching <paramref name="filter"/> that the caller may see, page by page.</summary>
    public IAsyncEnumerable<Grant> EnumerateGrantsAsync(ListGrantsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListGrantsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Access.ListGrantsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Grants, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every revision of <paramref name="dataset"/> (<c>datasets/{id}</c>), oldest first, page by page.</summary>
    public IAsyncEnumerable<Revision> EnumerateRevisionsAsync(string dataset, CancellationToken cancellationToken = default) =>
        Pages(new ListRevisionsRequest { Parent = dataset }, (r, t) => r.PageToken = t,
            async (r, c) => await Catalog.ListRevisionsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Revisions, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every transfer matching <paramref name="filter"/> (grant, dataset, state) that the caller may see, page by page.</summary>
    public IAsyncEnumerable<Transfer> EnumerateTransfersAsync(ListTransfersRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListTransfersRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Transfers.ListTransfersAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Transfers, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every settlement instruction of the closed period (<c>billingPeriods/{YYYY-MM}</c>) the caller may see, page by page.</summary>
    public IAsyncEnumerable<Settlement> EnumerateSettlementsAsync(string period, CancellationToken cancellationToken = default) =>
        Pages(new ListSettlementsRequest { Parent = period, PageSize = 1000 }, (r, t) => r.PageToken = t,
            async (r, c) => await Billing.ListSettlementsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Settlements, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every audit event matching <paramref name="filter"/> that the caller may read, oldest first, page by page.</summary>
    public IAsyncEnumerable<AuditEvent> EnumerateAuditEventsAsync(ListAuditEventsRequest? filter = null, CancellationToken cancellationToken = default) =>
        Pages(filter ?? new ListAuditEventsRequest(), (r, t) => r.PageToken = t,
            async (r, c) => await Audit.ListAuditEventsAsync(r, cancellationToken: c).ConfigureAwait(false), p => p.Events, p => p.NextPageToken,
            cancellationToken);

    /// <summary>Every participant with a recorded state matching <paramref name="filter"/> (auditors and operators), page by page.</summary>
    public IAsyncEnumerable<Participant> EnumerateParticipantsAsync(ListParticipantsRequest? filter = null, CancellationToken cancellationToken = default) =>
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
        _ownedChannel?.Dispose();
        _logTrust.Dispose();
    }

    /// <summary>
    /// The HTTP handler for <paramref name="options"/>: a socket handler with the TLS settings applied,
    /// or <see cref="ExchangeClientOptions.HttpHandler"/> with them applied to it when it is (or ends in)
    /// a <see cref="SocketsHttpHandler"/> or <see cref="HttpClientHandler"/> that sets no TLS of its own;
    /// otherwise an <see cref="ArgumentException"/> says that they conflict.
    /// </summary>
    internal static HttpMessageHandler CreateHandler(ExchangeClientOptions options)
    {
        if (options.HttpHandler is { } custom)
        {
            return ApplyTls(custom, options);
        }

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

        var roots = Roots(options);
        var diagnostics = new TlsDiagnostics();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            Validate(roots, certificate, chain, errors, diagnostics);
        return new ConnectionErrorHandler(handler, diagnostics, options.CaCertificateFile);
    }

    private static X509Certificate2Collection? Roots(ExchangeClientOptions options)
    {
        if (options.CaCertificateFile is not { } caFile)
        {
            return null;
        }

        X509Certificate2Collection roots = [];
        roots.ImportFromPemFile(ResolveCaFile(caFile));
        return roots;
    }

    private static HttpMessageHandler ApplyTls(HttpMessageHandler custom, ExchangeClientOptions options)
    {
        if (options.CaCertificateFile is null && options.ClientCertificate is null)
        {
            return custom;
        }

        var primary = custom;
        while (primary is DelegatingHandler { InnerHandler: { } inner })
        {
            primary = inner;
        }

        var clientCertificate = options.ClientCertificate;
        var validates = options.CaCertificateFile is not null;
        var diagnostics = new TlsDiagnostics();
        switch (primary)
        {
            case SocketsHttpHandler sockets when (!validates || sockets.SslOptions.RemoteCertificateValidationCallback is null) &&
                (clientCertificate is null || sockets.SslOptions.ClientCertificates is not { Count: > 0 }):
                var roots = Roots(options);
                if (clientCertificate is not null)
                {
                    sockets.SslOptions.ClientCertificates = [clientCertificate];
                }

                if (validates)
                {
                    sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                        Validate(roots, certificate, chain, errors, diagnostics);
                }

                break;
            case HttpClientHandler client when (!validates || client.ServerCertificateCustomValidationCallback is null) &&
                (clientCertificate is null || client.ClientCertificates.Count == 0):
                var clientRoots = Roots(options);
                if (clientCertificate is not null)
                {
                    client.ClientCertificateOptions = ClientCertificateOption.Manual;
                    client.ClientCertificates.Add(clientCertificate);
                }

                if (validates)
                {
                    client.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
                        Validate(clientRoots, certificate, chain, errors, diagnostics);
                }

                break;
            default:
                throw new ArgumentException(
                    $"ExchangeClientOptions.HttpHandler ({primary.GetType().Name}) conflicts with CaCertificateFile and ClientCertificate: they can be " +
                    "applied only to a SocketsHttpHandler or HttpClientHandler that sets no certificate validation or client certificate of its own. " +
                    "Configure TLS on the handler and leave them unset, or leave HttpHandler unset.", nameof(options));
        }

        return new ConnectionErrorHandler(custom, diagnostics, options.CaCertificateFile);
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
