using Exchange.Client.Transfers;

namespace Exchange.Tests.Infrastructure;

/// <summary>Cancels a transfer at an exact point: progress is reported on the caller's thread, not posted.</summary>
public sealed class CancelWhen(Func<TransferProgress, bool> when, CancellationTokenSource cancel) : IProgress<TransferProgress>
{
    public void Report(TransferProgress value)
    {
        if (when(value))
        {
            cancel.Cancel();
        }
    }
}
