using Exchange.Server.Storage;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Transfers;

/// <summary>
/// Keeps this gateway marked alive (recording how far its downloads have got, and stopping any that
/// another gateway meanwhile failed as orphans) and fails the transfers left STARTED by a gateway that is not
/// (a crash, a lost replica), so none holds a counted transfer forever: each is recorded as failed
/// and can resume under the usual checks. With the embedded database no other process can be
/// serving, so on start every STARTED transfer of an earlier run is failed at once.
/// </summary>
internal sealed partial class OrphanedTransfers(TransferStore store, LiveTransfers live, Database database, IOptions<Hosting.ExchangeOptions> options,
    TimeProvider time, ILogger<OrphanedTransfers> logger) : IHostedService
{
    // Never disposed: it has no timer, and the host may dispose services before it stops them.
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Positive: checked with the other storage settings (<see cref="Storage.StorageSetup.Problems"/>).</summary>
    private TimeSpan Timeout => options.Value.Transfers.OrphanTimeout;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await HeartbeatAsync(cancellationToken);
        await SweepAsync(cancellationToken);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Three heartbeats per timeout: one late write does not make a live gateway look gone.
                await Task.Delay(Timeout / 3, time, stopping);
                await HeartbeatAsync(stopping);
                await SweepAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be away for a moment; the next round tries again.
                LogSweepFailed(ex);
            }
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        // A stream that ended meanwhile may be among them; stopping it again is harmless.
        var streams = live.Snapshot();
        foreach (var superseded in await store.HeartbeatAsync(streams, cancellationToken))
        {
            superseded.Supersede();
        }

        foreach (var ended in streams.Where(stream => stream.Unrecorded))
        {
            if (await store.FailUnrecordedAsync(ended, cancellationToken))
            {
                LogUnrecordedFailed(ended.Id.Name);
            }

            live.Remove(ended);
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var failed = await store.FailOrphansAsync(time.GetUtcNow() - Timeout, onlyThisGateway: !database.Engine.Shared, cancellationToken);
        if (failed > 0)
        {
            LogOrphansFailed(failed);
        }
    }

    [LoggerMessage(EventId = 43, Level = LogLevel.Warning, Message = "Failed {Transfer}, whose end could not be recorded when its stream ended; it can resume")]
    private partial void LogUnrecordedFailed(string transfer);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "Failed {Count} transfers left streaming by a gateway that stopped; they can resume")]
    private partial void LogOrphansFailed(int count);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "Looking for transfers left by a stopped gateway failed; trying again later")]
    private partial void LogSweepFailed(Exception exception);
}
