using System.CommandLine;
using Exchange.Cli.Commands;
using Exchange.Client;
using Exchange.Client.Audit;
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
    public bool Interactive => handler is null && ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected;

    public TextWriter Error { get; } = error;

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null) =>
        new CliApp(output, error, handler).InvokeAsync(args);

    public Task<int> InvokeAsync(string[] args)
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
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = Output, Error = Error });
    }

    /// <summary>
    /// The <c>--trusted</c> option of the commands that check the audit log's checkpoints: the file
    /// that keeps the last checkpoint accepted from this gateway and its key.
    /// </summary>
    public static Option<string?> TrustedOption() => new("--trusted")
    {
        Description = "The trusted-checkpoint file (default: ~/.exchange/trusted/<server>.json; audit verify and download share it).",
    };

    /// <summary>The trusted-checkpoint file that <paramref name="trusted"/> names, else this gateway's default one.</summary>
    public TrustedCheckpointStore TrustedStore(ParseResult parse, Option<string?> trusted)
    {
        if (parse.GetValue(trusted) is { } path)
        {
            return new TrustedCheckpointStore(path);
        }

        var server = new Uri(parse.GetValue(Server) ?? DefaultServer);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var name = $"{server.Host}_{server.Port}".Replace(':', '_');
        return new TrustedCheckpointStore(Path.Combine(home, ".exchange", "trusted", $"{name}.json"));
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

    /// <summary>
    /// Runs a command body; a gRPC error prints its status and message on stderr and exits 1. The
    /// messages are escaped: a status detail is the gateway's text, and others often quote it.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                return await body(parse, cancellationToken);
            }
            catch (RpcException ex)
            {
                await Error.WriteLineAsync($"error: {ex.StatusCode}: {Render.Printable(ex.Status.Detail)}");
                return 1;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException
                or System.Security.Cryptography.CryptographicException or HttpRequestException or InvalidDataException
                or Exchange.Client.Transfers.ReceiptVerificationException)
            {
                await Error.WriteLineAsync($"error: {Render.Printable(ex.Message)}");
                return 1;
            }
        };
}
