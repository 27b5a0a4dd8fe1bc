using Exchange.Cli;
using Exchange.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// An in-process gateway in a fresh temporary data directory, with its Development configuration
/// (certs-dev keys), and SDK clients that call it as any participant. Its storage is the test
/// backend of this build (<see cref="TestBackend"/>): the embedded SQLite file and local blobs,
/// or the scale-out pair, a fresh database on the test run's PostgreSQL and a fresh prefix in its
/// s3rver bucket, both remembered in the data directory so that a gateway restarted over the
/// same directory finds its state again. A test that names a database or blob kind keeps it.
/// </summary>
public class ExchangeFactory : WebApplicationFactory<Program>
{
    private readonly bool _keepData;
    private bool _realTls;

    /// <summary>When set (before the server starts), every log line at every level is kept here.</summary>
    public CapturedLogs? Logs { get; set; }

    /// <summary>
    /// The Error and Critical lines this gateway logged. Those not declared with <see cref="ExpectErrors"/>
    /// fail the test: a class's shared gateway checks after each of its tests
    /// (<see cref="SharedGatewayTests{TGateway}"/>), and every gateway when it is disposed.
    /// </summary>
    public ServerErrors Errors { get; } = new();

    /// <summary>
    /// Declares server errors this test provokes on purpose, e.g. <c>e => e.Is("UnhandledExceptionInterceptor", 1)</c>;
    /// any other one fails the test. On a shared gateway the declaration holds until the test ends.
    /// </summary>
    public ExchangeFactory ExpectErrors(Func<ServerLogEntry, bool> expected)
    {
        Errors.Expect(expected);
        return this;
    }

    /// <summary>Fails now when an undeclared error was logged since the previous check.</summary>
    public void VerifyNoUnexpectedErrors() => Errors.Check(DataDirectory);

    private bool _verified;

    /// <summary>Changes to the gateway's services after its own registrations, e.g. a storage that fails on purpose; set before the server starts.</summary>
    public Action<IServiceCollection>? TestServices { get; set; }

    /// <summary>The gateway's clock (e.g. a FakeTimeProvider a test moves past an expiry instead of waiting); set before the server starts.</summary>
    public TimeProvider? Clock { get; set; }

    /// <summary>A client for <paramref name="participant"/> whose token is issued at <see cref="Clock"/>'s now, so it stays valid on that clock.</summary>
    public ExchangeClient OnClock(Participant participant) =>
        ClientWithToken(DevTokens.Mint(DevKeyFile, participant.Id, participant.Roles, TimeSpan.FromMinutes(10),
            now: (Clock ?? throw new InvalidOperationException("No Clock is set.")).GetUtcNow()));

    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);

    public ExchangeFactory()
        : this(Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N")), keepData: false)
    {
    }

    /// <summary>A gateway in a fresh data directory with extra configuration: the base of a class fixture that needs some.</summary>
    protected ExchangeFactory(params (string Key, string Value)[] settings)
        : this(Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N")), keepData: false)
    {
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    private ExchangeFactory(string dataDirectory, bool keepData)
    {
        DataDirectory = dataDirectory;
        _keepData = keepData;
    }

    public string DataDirectory { get; }

    /// <summary>A gateway over an existing data directory, e.g. to restart one; the directory is kept on dispose unless told otherwise.</summary>
    public static ExchangeFactory Over(string dataDirectory, bool keepData = true, params (string Key, string Value)[] settings)
    {
        var factory = new ExchangeFactory(dataDirectory, keepData);
        foreach (var (key, value) in settings)
        {
            factory._settings[key] = value;
        }

        return factory;
    }

    /// <summary>A gateway in a fresh data directory with extra configuration, e.g. ("Exchange:Transfers:IdleTimeout", "00:00:01").</summary>
    public static ExchangeFactory With(params (string Key, string Value)[] settings) =>
        Over(Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N")), keepData: false, settings);

    /// <summary>
    /// A gateway on real Kestrel with TLS (the dev server certificate) on a free loopback port
    /// instead of the in-memory test server: for what only a real TLS connection has, such as
    /// client certificates. Reach it with <see cref="TlsClient"/>.
    /// </summary>
    public static ExchangeFactory WithTls(params (string Key, string Value)[] settings)
    {
        var factory = With(settings);
        factory._realTls = true;
        factory.UseKestrel();
        factory.StartServer();
        return factory;
    }

    /// <summary>The https address a <see cref="WithTls"/> gateway listens on.</summary>
    public Uri TlsAddress => new(Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
        .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single());

    /// <summary>A client over real TLS that trusts the dev CA, presents <paramref name="certificate"/> (if any) and sends <paramref name="token"/> (if any).</summary>
    public ExchangeClient TlsClient(string? token, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var options = new ExchangeClientOptions
        {
            Address = TlsAddress,
            CaCertificateFile = Path.Combine(AppContext.BaseDirectory, "certs-dev", "ca.crt"),
            ClientCertificate = certificate,
        };
        if (token is not null)
        {
            options.UseToken(token);
        }

        return new ExchangeClient(options);
    }

    public static string DevKeyFile => Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.key");

    public static string Token(string participant, params string[] roles) =>
        DevTokens.Mint(DevKeyFile, participant, roles, TimeSpan.FromMinutes(10));

    /// <summary>A client calling as <paramref name="participant"/> with <paramref name="roles"/>.</summary>
    public ExchangeClient ClientFor(string participant, params string[] roles) => ClientWithToken(Token(participant, roles));

    public ExchangeClient ClientFor(Participant participant) => ClientFor(participant.Id, participant.Roles);

    /// <summary>A client sending exactly <paramref name="token"/>, or no token at all when null.</summary>
    public ExchangeClient ClientWithToken(string? token) => Client(Server.CreateHandler(), token);

    /// <summary>A client of <paramref name="participant"/> whose calls go through <paramref name="handler"/> (a <see cref="RewritingProxy"/>, say).</summary>
    public ExchangeClient ClientThrough(HttpMessageHandler handler, Participant participant) =>
        Client(handler, Token(participant.Id, participant.Roles));

    private ExchangeClient Client(HttpMessageHandler handler, string? token)
    {
        var options = new ExchangeClientOptions { Address = Server.BaseAddress, HttpHandler = handler, AllowInsecureTransport = true };
        if (token is not null)
        {
            options.UseToken(token);
        }

        return new ExchangeClient(options);
    }

    /// <summary>Runs the <c>exchange</c> command in-process against this gateway; returns its exit code, stdout and stderr.</summary>
    public Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args) =>
        RunCliAsync(Server.CreateHandler(), ["--server", Server.BaseAddress.ToString(), .. args]);

    /// <summary>Runs the <c>exchange</c> command in-process with <paramref name="args"/>, over <paramref name="handler"/> or (null) a real connection.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunCliAsync(HttpMessageHandler? handler, string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error, handler);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Runs the <c>exchange</c> command as <paramref name="who"/> (with a dev token).</summary>
    public Task<(int Exit, string Out, string Err)> RunCliAsync(Participant who, params string[] args) =>
        RunCliAsync(["--token", Token(who.Id, who.Roles), .. args]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        if (_realTls)
        {
            builder.UseSetting("urls", "https://127.0.0.1:0");
        }

        builder.UseSetting("Exchange:DataDirectory", DataDirectory);
        builder.UseSetting("Exchange:Audit:CheckpointInterval", "00:00:00.050");

        // Tests fire calls far faster than any participant should; the limiter has tests of its own.
        builder.UseSetting("Exchange:Limits:CallsPerSecond", "0");
        if (TestBackend.Postgres && !_settings.ContainsKey("Exchange:Database:Kind"))
        {
            foreach (var (key, value) in PostgresSettings())
            {
                builder.UseSetting(key, value);
            }
        }

        if (TestBackend.Postgres && !_settings.ContainsKey("Exchange:Blobs:Kind"))
        {
            foreach (var (key, value) in S3Settings())
            {
                builder.UseSetting(key, value);
            }
        }

        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (Clock is { } clock)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
        }

        if (TestServices is not null)
        {
            builder.ConfigureTestServices(TestServices);
        }

        // What the gateway logs once its host begins to stop is shutdown, told apart by the error check.
        builder.ConfigureServices(services => services.AddHostedService(provider => new StoppingWatch(
            provider.GetRequiredService<IHostApplicationLifetime>(), Errors)));

        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(Logs is null ? LogLevel.Warning : LogLevel.Trace);
            logging.AddProvider(Errors);
            if (Logs is not null)
            {
                logging.AddProvider(Logs);
            }
        });
    }

    private (string Key, string Value)[] PostgresSettings()
    {
        var server = PostgresServer.Shared;
        var remembered = Path.Combine(DataDirectory, "test-postgres-database");
        if (!File.Exists(remembered))
        {
            Directory.CreateDirectory(DataDirectory);
            File.WriteAllText(remembered, server.CreateDatabase());
        }

        // A shared database wants a configured key-encryption key; this one sits where the embedded default would generate its own.
        var key = Path.Combine(DataDirectory, "keys", "kek-local.key");
        if (!File.Exists(key))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(key)!);
            File.WriteAllText(key, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        }

        return
        [
            ("Exchange:Database:Kind", "postgres"),
            ("Exchange:Database:ConnectionString", server.ConnectionString(File.ReadAllText(remembered))),
            ("Exchange:Encryption:KeyFiles:local", key),
        ];
    }

    private (string Key, string Value)[] S3Settings()
    {
        var remembered = Path.Combine(DataDirectory, S3PrefixFile);
        if (!File.Exists(remembered))
        {
            Directory.CreateDirectory(DataDirectory);
            File.WriteAllText(remembered, $"t{Guid.NewGuid():N}/");
        }

        return [.. S3Server.Shared.Settings, ("Exchange:Blobs:S3:Prefix", File.ReadAllText(remembered))];
    }

    private const string S3PrefixFile = "test-s3-prefix";

    /// <summary>The files that hold this gateway's revision blobs, wherever its backend keeps them.</summary>
    public IReadOnlyList<string> BlobFiles() => BlobFiles(DataDirectory);

    /// <summary>
    /// The files holding the revision blobs of the gateway over <paramref name="dataDirectory"/>:
    /// under its blobs folder, or, in the bucket, the object files s3rver keeps on disk.
    /// </summary>
    public static IReadOnlyList<string> BlobFiles(string dataDirectory)
    {
        var prefixFile = Path.Combine(dataDirectory, S3PrefixFile);
        var (root, pattern) = File.Exists(prefixFile)
            ? (Path.Combine(S3Server.Shared.Directory, "exchange", File.ReadAllText(prefixFile)), "*._S3rver_object")
            : (Path.Combine(dataDirectory, "blobs"), "*");
        return Directory.Exists(root) ? [.. Directory.EnumerateFiles(root, pattern, SearchOption.AllDirectories).Order()] : [];
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && !_keepData && Directory.Exists(DataDirectory))
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A pooled SQLite handle can outlive the host briefly; the temp folder is harmless.
            }
        }

        // Once, as Dispose and DisposeAsync both end here. Errors the frameworks log while the host
        // stops are printed; the gateway's own, and any logged before, fail the test (or the class's cleanup).
        if (disposing && !_verified)
        {
            _verified = true;
            Errors.Check(DataDirectory);
        }
    }

    /// <summary>Tells <see cref="ServerErrors"/> when the host begins to stop (ApplicationStopping fires before any hosted service stops).</summary>
    private sealed class StoppingWatch(IHostApplicationLifetime lifetime, ServerErrors errors) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopping.Register(errors.HostStopping);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
