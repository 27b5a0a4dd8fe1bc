namespace Exchange.Server.Observability;

/// <summary>Exchange:Telemetry: where metrics and traces go.</summary>
internal sealed class TelemetryOptions
{
    /// <summary>Serve metrics for Prometheus to scrape at <see cref="PrometheusPath"/>, to callers with the operator role only.</summary>
    public bool Prometheus { get; set; } = true;

    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>An OTLP collector (e.g. http://otel-collector:4317) to send traces and metrics to; empty sends none.</summary>
    public string? OtlpEndpoint { get; set; }
}
