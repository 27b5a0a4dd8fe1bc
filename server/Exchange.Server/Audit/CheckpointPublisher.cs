using Microsoft.Extensions.Options;

namespace Exchange.Server.Audit;

/// <summary>
/// Signs a new checkpoint whenever the log has grown, at most once per
/// Exchange:Audit:CheckpointInterval; earlier checkpoints are kept.
/// </summary>
internal sealed partial class CheckpointPublisher(AuditStore store, CheckpointSigner signer, IOptions<Hosting.ExchangeOptions> options,
    TimeProvider time, ILogger<CheckpointPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogVerifierKey(signer.VerifierKey.Encoded);
        using var timer = new PeriodicTimer(options.Value.Audit.CheckpointInterval, time);
        var signedSize = -1L;
        do
        {
            try
            {
                if (store.Size != signedSize)
                {
                    signedSize = await store.SignCheckpointAsync(signer, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSigningFailed(ex);
            }
        }
        while (await NextTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Audit checkpoints are signed by {VerifierKey}")]
    private partial void LogVerifierKey(string verifierKey);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "Signing an audit checkpoint failed; retrying at the next interval")]
    private partial void LogSigningFailed(Exception exception);
}
