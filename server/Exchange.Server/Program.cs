using Exchange.Server.Hosting;
using Exchange.Server.Observability;
using Exchange.Server.Security;
using Exchange.Server.Storage;

var startup = new StartupFailure();
try
{
    var builder = WebApplication.CreateBuilder(args);
    startup.QuietHostWhileStarting(builder.Logging);

    var section = builder.Configuration.GetSection(ExchangeOptions.Section);
    var options = section.Get<ExchangeOptions>() ?? new ExchangeOptions();
    builder.Services.Configure<ExchangeOptions>(section);
    builder.Services.AddSingleton(TimeProvider.System);

    // Refuse public dev keys, and a key-encryption key beside the data, anywhere but Development, before anything listens.
    DevKeyGuard.ThrowIfDevKeysOutsideDevelopment(builder.Environment, options);

    // Transport: HTTPS on 127.0.0.1:5001 by default, HTTP/2 for gRPC.
    builder.AddExchangeTls(options.Tls, options.Limits);

    // Who is calling: JWT bearer tokens; every endpoint requires a caller unless marked anonymous.
    builder.Services.AddExchangeAuthentication(options.Auth, options.Tls, builder.Environment);

    // Where state lives: SQLite under Exchange:DataDirectory, migrated on start; every write is
    // group-committed together with its audit record, and checkpoints are signed as the log grows.
    builder.Services.AddExchangeStorage(options);

    // What is served: exchange.v1 services, health and reflection.
    builder.Services.AddExchangeGrpc(options);

    // What operators see: OpenTelemetry metrics (Prometheus scrape endpoint, OTLP) and traces.
    builder.Services.AddExchangeTelemetry(options.Telemetry);

    var app = builder.Build();
    app.Services.GetRequiredService<SigningKeyRing>().UseLogger(app.Logger);
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapExchangeServices(options);
    app.MapExchangeTelemetry(options);
    await app.StartAsync();
    startup.MarkStarted();
    await app.WaitForShutdownAsync();
    return 0;
}
catch (Exception ex) when (!startup.Started)
{
    // One line and exit 1 for any failure to start: a busy port, a missing key, bad configuration.
    await Console.Error.WriteLineAsync($"Exchange cannot start: {StartupFailure.Describe(ex)}");
    return 1;
}

/// <summary>The entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
