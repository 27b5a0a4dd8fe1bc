using Exchange.Server.Storage;

namespace Exchange.Server.Observability;

/// <summary>Reports the audit log's size and this process's appends from the database, which knows nothing of metrics.</summary>
internal sealed class LogMetrics(ExchangeTelemetry telemetry, Database database) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        telemetry.ObserveLogSize(() => database.LogSize);
        database.Appended += telemetry.Appended;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        database.Appended -= telemetry.Appended;
        return Task.CompletedTask;
    }
}
