using Microsoft.Extensions.Options;

namespace Exchange.Server.Billing;

/// <summary>
/// Charges subscription periods as they start and closes periods at their cut-off, every
/// <see cref="BillingOptions.SweepInterval"/>. Every replica sweeps; the store's checks make a
/// second sweep of the same period charge and close nothing.
/// </summary>
internal sealed partial class BillingSweeper(BillingStore store, IOptions<Hosting.ExchangeOptions> options, TimeProvider time,
    ILogger<BillingSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The next sweep tries again; nothing is charged or closed twice.
                LogSweepFailed(ex);
            }

            await Task.Delay(options.Value.Billing.SweepInterval, time, stoppingToken);
        }
    }

    /// <summary>One sweep: periods that started are charged before periods are closed, so they count where they belong.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var renewed = 0;
        int charged;
        do
        {
            charged = await store.RenewDueAsync(cancellationToken);
            renewed += charged;
        }
        while (charged > 0);

        var closed = await store.CloseDueAsync(cancellationToken);
        if (renewed > 0 || closed > 0)
        {
            LogSwept(renewed, closed);
        }
    }

    [LoggerMessage(EventId = 90, Level = LogLevel.Information, Message = "Billing: charged {Renewed} subscription periods, closed {Closed} billing periods")]
    private partial void LogSwept(int renewed, int closed);

    [LoggerMessage(EventId = 91, Level = LogLevel.Warning, Message = "Billing sweep failed; the next one tries again")]
    private partial void LogSweepFailed(Exception exception);
}
