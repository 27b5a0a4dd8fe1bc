using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Billing;
using Exchange.Server.Catalog;
using Exchange.Server.Compute;
using Exchange.Server.Hosting;
using Exchange.Server.Lineage;
using Exchange.Server.Observability;
using Exchange.Server.Security;
using Exchange.Server.Participants;
using Exchange.Server.Pricing;
using Exchange.Server.Rights;
using Exchange.Server.Storage;
using Exchange.Server.Transfers;

var startup = new StartupFailure();
try
{
    var builder = WebApplication.CreateBuilder(args);
    startup.QuietHostWhileStarting(builder.Logging);

    // The Exchange section, bound once and validated as the host starts, before anything is created or listens:
    // development keys anywhere but Development, a key-encryption key beside the data, settings that cannot work.
    var section = builder.Configuration.GetSection(ExchangeOptions.Section);
    ExchangeOptionsValidation.Register(builder.Services, section);
    builder.Services.AddSingleton(TimeProvider.System);

    // Transport: HTTPS on 127.0.0.1:5001 by default, HTTP/2 for gRPC.
    builder.AddExchangeTls();

    // Who is calling: JWT bearer tokens; every endpoint requires a caller unless marked anonymous.
    builder.Services.AddExchangeAuthentication();

    // Where state lives: SQLite under Exchange:DataDirectory (or PostgreSQL), migrated on start; every
    // write is group-committed together with its audit record.
    builder.Services.AddExchangeStorage();

    // The features, each a folder: service (the proto's RPCs) → policy → store → audit record.
    builder.Services.AddExchangeAudit();
    builder.Services.AddExchangeCatalog();
    builder.Services.AddExchangeAccess();
    builder.Services.AddExchangeTransfers();
    builder.Services.AddExchangeCompute();
    builder.Services.AddExchangeRights();
    builder.Services.AddExchangeLineage();
    builder.Services.AddExchangePricing();
    builder.Services.AddExchangeBilling();
    builder.Services.AddExchangeParticipants();

    // What is served: exchange.v1 services, health and reflection.
    builder.Services.AddExchangeGrpc();

    // What operators see: OpenTelemetry metrics (Prometheus scrape endpoint, OTLP) and traces. OpenTelemetry registers
    // its exporters while the host is built: the one place that reads settings before the options are validated.
    builder.Services.AddExchangeTelemetry(section.GetSection(nameof(ExchangeOptions.Telemetry)).Get<TelemetryOptions>() ?? new TelemetryOptions());

    var app = builder.Build();
    // The web console at /console (static files under a strict CSP) and gRPC-Web for its calls.
    app.UseExchangeConsole();
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapExchangeServices();
    app.MapExchangeConsole();
    app.MapExchangeTelemetry();
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
