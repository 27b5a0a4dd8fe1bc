using System.CommandLine;
using Exchange.Cli.Commands;
using Exchange.Client;
using Exchange.Client.Audit;
using Exchange.Client.Connection;
using Exchange.Transparency;
using Grpc.Core;

namespace Exchange.Cli;

/// <summary>
/// The <c>exchange</c> command line. Writers and the HTTP handler are injectable so that
/// tests run it in-process against a test server.
/// </summary>
internal sealed class CliApp(TextWriter output, TextWriter error, HttpMessageHandler? handler = null)
{
    public const string DefaultServer = "https://127.0.0.1:5001";

    public Option<string> Server { get; } = new("--server")
    {
        Description = "Gateway address (env EXCHANGE_SERVER).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXCHANGE_SERVER") ?? DefaultServer,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Bearer token (env EXCHANGE_TOKEN).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXCHANGE_TOKEN"),
    };

    public Option<string?> Ca { get; } = new("--ca")
    {
        Description = "PEM file of a CA to trust for the gateway's certificate, e.g. certs-dev/ca.crt (env EXCHANGE_CA).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXCHANGE_CA"),
    };

    public Option<string?> ClientCert { get; } = new("--client-cert")
    {
        Description = "PEM client certificate for mutual TLS (env EXCHANGE_CLIENT_CERT); its key from --client-key.",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXCHANGE_CLIENT_CERT"),
    };

    public Option<string?> ClientKey { get; } = new("--client-key")
    {
        Description = "PEM private key of --client-cert (env EXCHANGE_CLIENT_KEY); omit when the certificate file holds it.",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXCHANGE_CLIENT_KEY"),
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON instead of a table.",
        Recursive = true,
    };

    public TextWriter Output { get; } = output;

    /// <summary>Whether live progress bars may be drawn: the real console, on a terminal.</summary>
    public bool Interactive => ProgressConsole is not null || (handler is null && ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected);

    public TextWriter Error { get; } = error;

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null,
        CancellationToken cancellationToken = default) =>
        new CliApp(output, error, handler).InvokeAsync(args, cancellationToken);

    /// <summary>Where live progress bars go; set by tests to see them, else the real console when it is a terminal.</summary>
    internal Spectre.Console.IAnsiConsole? ProgressConsole { get; init; }

    /// <summary>The width tables fit: the terminal's, else COLUMNS, else 160 (output to a file or pipe).</summary>
    internal int? Width { get; init; }

    /// <summary>Runs the command line; <paramref name="cancellationToken"/> acts as Ctrl+C does (tests).</summary>
    public Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("exchange: the command line of the Exchange data-exchange gateway.");
        root.Add(Server);
        root.Add(Token);
        root.Add(Ca);
        root.Add(ClientCert);
        root.Add(ClientKey);
        root.Add(Json);
        root.Add(TokenCommand.Create(this));
        root.Add(DatasetsCommand.Create(this));
        root.Add(AccessCommand.Create(this));
        root.Add(GrantsCommand.Create(this));
        root.Add(AuditCommand.Create(this));
        root.Add(ParticipantsCommand.Create(this));
        root.Add(TransferCommands.Upload(this));
        root.Add(TransferCommands.Download(this));
        root.Add(TransfersCommand.Create(this));
        root.Add(QueryCommand.Create(this));
        root.Add(ComputeCommand.Create(this));
        root.Add(RightsCommand.Create(this));
        root.Add(LineageCommand.Create(this));
        root.Add(OffersCommand.Create(this));
        root.Add(BillingCommand.Create(this));
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = Output, Error = Error }, cancellationToken);
    }

    /// <summary>
    /// The <c>--trusted</c> option of the commands that check the audit log's checkpoints: the file
    /// that keeps, for every trusted log, the last checkpoint accepted from it and its key.
    /// </summary>
    public static Option<string?> TrustedOption() => new("--trusted")
    {
        Description = "The trusted-logs file (default: ~/.exchange/trusted/logs.json; audit verify, audit trust and download share it).",
    };

    /// <summary>
    /// The trusted-logs file that <paramref name="trusted"/> names, else the default one, which also
    /// reads, and at its next save takes in, the per-gateway file of earlier versions for this server.
    /// </summary>
    public TrustedCheckpointStore TrustedStore(ParseResult parse, Option<string?> trusted)
    {
        if (parse.GetValue(trusted) is { } path)
        {
            return new TrustedCheckpointStore(path);
        }

        var server = new Uri(parse.GetValue(Server) ?? DefaultServer);
        var folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".exchange", "trusted");
        var legacy = $"{server.Host}_{server.Port}".Replace(':', '_');
        return new TrustedCheckpointStore(Path.Combine(folder, "logs.json"), Path.Combine(folder, $"{legacy}.json"));
    }

    /// <summary>
    /// The note printed when a command trusts a log it had never seen: which log, under which key, where
    /// it is kept, and the other logs of the same origin already trusted (a new database behind the same
    /// address is such a log).
    /// </summary>
    public async Task NoteNewLogAsync(CheckpointNote checkpoint, NoteVerifierKey key, bool keyPinned, TrustedCheckpointStore store)
    {
        var id = checkpoint.LogId.Length > 0 ? $"log id {checkpoint.LogId}" : "no log id";
        await Error.WriteLineAsync($"note: first time this log is seen: trusting {Render.Printable(checkpoint.Origin)} ({id}) from size {checkpoint.Size}, " +
            (keyPinned ? "under the pinned key." : $"signed by {Render.Printable(key.Encoded)} (the server's key, trusted on first use)."));
        if (!keyPinned)
        {
            await Error.WriteLineAsync($"      kept in {store.Path}; compare the key with the one the operator publishes, and pin it with --verifier-key.");
        }

        IReadOnlyList<TrustedLog> others;
        try
        {
            others = [.. store.Logs().Where(l => l.Origin == checkpoint.Origin && l.LogId != checkpoint.LogId)];
        }
        catch (FormatException)
        {
            return;
        }

        foreach (var other in others)
        {
            await Error.WriteLineAsync($"      another log of this origin is trusted too: {(other.LogId.Length > 0 ? $"log id {other.LogId}" : "no log id")}, " +
                $"size {other.Size}, since {other.TrustedTime.UtcDateTime:yyyy-MM-dd HH:mm}Z; a new gateway database is a new log.");
        }

        if (others.Count > 0)
        {
            await Error.WriteLineAsync("      `exchange audit trust list` shows the trusted logs; `exchange audit trust forget <log id>` forgets one.");
        }
    }

    /// <summary>A client for the gateway named by the global options; <paramref name="configure"/> adds to its options.</summary>
    public ExchangeClient Connect(ParseResult parse, Action<ExchangeClientOptions>? configure = null)
    {
        var token = parse.GetValue(Token);
        var options = new ExchangeClientOptions
        {
            Address = new Uri(parse.GetValue(Server) ?? DefaultServer),
            CaCertificateFile = parse.GetValue(Ca),
            ClientCertificate = parse.GetValue(ClientCert) is { } certificate
                ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate, parse.GetValue(ClientKey))
                : null,
            HttpHandler = handler,
            AllowInsecureTransport = handler is not null,
        };
        if (!string.IsNullOrEmpty(token))
        {
            options.UseToken(token);
        }

        configure?.Invoke(options);
        return new ExchangeClient(options);
    }

    /// <summary>The exit code of a command stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>
    /// Runs a command body; a gRPC error prints its status and message on stderr and exits 1; a
    /// connection that could not be made (refused, untrusted or misnamed certificate) prints one
    /// line saying what to do, as UNAVAILABLE, and exits 1; Ctrl+C prints <paramref name="interrupted"/>'s
    /// line (or "interrupted") and exits 130. The messages are escaped: a status detail is the
    /// gateway's text, and others often quote it.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> body, Func<string>? interrupted = null) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or RpcException or IOException)
            {
                // Whatever the interrupted call reports (CANCELLED, or a connection the client itself aborted), it was Ctrl+C.
                await Error.WriteLineAsync(interrupted?.Invoke() ?? "interrupted");
                return InterruptedExitCode;
            }
            catch (Exception ex) when (GatewayConnectionException.Describe(ex, new Uri(parse.GetValue(Server) ?? DefaultServer)) is { } connection)
            {
                await Error.WriteLineAsync($"error: Unavailable: {Render.Printable(ConnectionHelp(connection))}");
                return 1;
            }
            catch (RpcException ex)
            {
                await Error.WriteLineAsync($"error: {ex.StatusCode}: {Render.Printable(ex.Status.Detail)}");
                return 1;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException
                or System.Security.Cryptography.CryptographicException or HttpRequestException or InvalidDataException
                or Exchange.Client.VerificationException)
            {
                await Error.WriteLineAsync($"error: {Render.Printable(ex.Message)}");
                return 1;
            }
        };

    /// <summary>One line that says what to do about a connection that could not be made, in the CLI's terms (--ca, --server).</summary>
    internal static string ConnectionHelp(GatewayConnectionException e)
    {
        var status = e.ChainStatus.Length > 0 ? $" ({e.ChainStatus})" : "";
        return e.Failure switch
        {
            ConnectionFailure.UntrustedCertificate when e.CaCertificateFile is null =>
                $"the gateway's TLS certificate at {e.Address} is not trusted{status}: pass --ca FILE or set EXCHANGE_CA to the CA that " +
                "issued it (in development: --ca certs-dev/ca.crt).",
            ConnectionFailure.UntrustedCertificate =>
                $"the gateway's TLS certificate at {e.Address} does not chain to the CA in '{e.CaCertificateFile}'{status}: pass the CA " +
                "that issued it with --ca FILE or EXCHANGE_CA (in development: certs-dev/ca.crt).",
            ConnectionFailure.NameMismatch =>
                $"the gateway's TLS certificate is for {string.Join(", ", e.CertificateNames)}, not {e.Address.Host}: pass --server with " +
                $"one of those names (e.g. --server https://{HostForUri(e.CertificateNames.FirstOrDefault() ?? "localhost")}:{e.Address.Port}).",
            ConnectionFailure.Refused =>
                $"nothing answers at {e.Address} (connection refused): is the gateway running at {e.Address}? Start it " +
                "(dotnet run --project server/Exchange.Server), or pass --server or set EXCHANGE_SERVER.",
            _ => e.Message,
        };
    }

    private static string HostForUri(string name) =>
        System.Net.IPAddress.TryParse(name, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{name}]" : name;
}
