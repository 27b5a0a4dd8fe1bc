using System.Threading.Channels;

namespace Exchange.Server.Storage;

/// <summary>
/// Tells whoever waits (audit watches) that the committed log grew. The writer's side,
/// <see cref="Committed"/>, is one non-blocking write whatever the number of waiters: waking them
/// happens on a fan-out task of its own, so a thousand watches cost a commit nothing.
/// </summary>
internal sealed class LogGrowth : IAsyncDisposable
{
    private readonly Func<long> _size;
    private readonly Channel<bool> _pulses = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly Task _fanOut;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="size">The committed log size, already current when <see cref="Committed"/> is called.</param>
    public LogGrowth(Func<long> size)
    {
        _size = size;
        _fanOut = Task.Run(FanOutAsync);
    }

    /// <summary>The log grew; called on the writer's path after a commit, or on news of one elsewhere.</summary>
    public void Committed() => _pulses.Writer.TryWrite(true);

    /// <summary>Completes once the committed log holds more than <paramref name="size"/> leaves.</summary>
    public async Task WaitAsync(long size, CancellationToken cancellationToken)
    {
        while (true)
        {
            // The signal first, then the size: a growth between the two is seen by the size check,
            // a later one completes this signal.
            var grown = Volatile.Read(ref _next).Task;
            if (_size() > size)
            {
                return;
            }

            await grown.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pulses.Writer.TryComplete();
        await _fanOut.ConfigureAwait(false);
    }

    private async Task FanOutAsync()
    {
        await foreach (var _ in _pulses.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        Volatile.Read(ref _next).TrySetResult();
    }
}
