using Exchange.Server.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Exchange.Server.Observability;

internal static class TelemetrySetup
{
    private const string KestrelMemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

    /// <summary>
    /// OpenTelemetry: the gateway's own meter and trace source, ASP.NET Core's and the runtime's
    /// metrics, a Prometheus scrape endpoint, and OTLP export when a collector is configured.
    /// OpenTelemetry's builders register their exporters as the host is built, so these settings
    /// are read then (<paramref name="options"/>); nothing else reads options before the host starts.
    /// </summary>
    public static IServiceCollection AddExchangeTelemetry(this IServiceCollection services, TelemetryOptions options)
    {
        services.AddSingleton<ExchangeTelemetry>();
        services.AddHostedService<LogMetrics>();
        var telemetry = services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ExchangeTelemetry.Name).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation()
                    // Kestrel counts every 4 KiB block it rents and returns; recording that cost 3-4% of the
                    // gateway's CPU during a transfer. The runtime's heap metrics say what an operator needs.
                    .AddView(instrument => instrument.Meter.Name == KestrelMemoryPoolMeter ? MetricStreamConfiguration.Drop : null);
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    metrics.AddOtlpExporter(otlp => otlp.Endpoint = new Uri(options.OtlpEndpoint));
                }
            });
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(ExchangeTelemetry.Name, Storage.Database.Tracing.Name)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(otlp => otlp.Endpoint = new Uri(options.OtlpEndpoint)));
        }

        return services;
    }

    public static WebApplication MapExchangeTelemetry(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ExchangeOptions>>().Value;
        if (options.Telemetry.Prometheus)
        {
            // Like every other endpoint it needs a token: one with the metrics role, which opens nothing else
            // (a scraper sends it as its bearer credentials; an operator's token is not needed, nor accepted).
            app.MapPrometheusScrapingEndpoint(options.Telemetry.PrometheusPath)
                .RequireAuthorization(Security.Policies.Metrics);
        }

        return app;
    }
}
