using System.Numerics;
using Exchange.Server.Compute;

namespace Exchange.Tests.Compute;

/// <summary>
/// The gateway's secure noise, except that the first <paramref name="queries"/> queries to draw any
/// are held in it until the test releases them, and then fail: queries that fail after admission, at
/// a moment the test chooses.
/// </summary>
internal sealed class HeldNoise(int queries = 1) : INoiseSource
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _drawn;

    /// <summary>Completes once the held queries are (admitted, and running in the engine).</summary>
    public Task Held => _held.Task;

    public void Release() => _released.TrySetResult();

    public BigInteger NextBelow(BigInteger bound)
    {
        // A held query draws once and fails: each of the first draws is another query.
        var drawn = Interlocked.Increment(ref _drawn);
        if (drawn > queries)
        {
            return SecureNoise.Instance.NextBelow(bound);
        }

        if (drawn == queries)
        {
            _held.TrySetResult();
        }

        // The engine runs a query on a thread of its own: blocking here holds that query alone.
        _released.Task.Wait(TimeSpan.FromMinutes(1));
        throw new InvalidOperationException("The held query fails in the engine, as its test wants.");
    }
}
