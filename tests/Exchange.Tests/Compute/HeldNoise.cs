using System.Numerics;
using Exchange.Server.Compute;

namespace Exchange.Tests.Compute;

/// <summary>
/// The gateway's secure noise, except that the first query to draw any is held in it until the
/// test releases it, and then fails: a query that fails after admission, at a moment the test chooses.
/// </summary>
internal sealed class HeldNoise : INoiseSource
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _drawn;

    /// <summary>Completes once the first query is held (admitted, and running in the engine).</summary>
    public Task Held => _held.Task;

    public void Release() => _released.TrySetResult();

    public BigInteger NextBelow(BigInteger bound)
    {
        if (Interlocked.Exchange(ref _drawn, 1) == 1)
        {
            return SecureNoise.Instance.NextBelow(bound);
        }

        _held.TrySetResult();
        // The engine runs a query on a thread of its own: blocking here holds that query alone.
        _released.Task.Wait(TimeSpan.FromMinutes(1));
        throw new InvalidOperationException("The held query fails in the engine, as its test wants.");
    }
}
