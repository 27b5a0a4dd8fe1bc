using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Compute;

/// <summary>
/// The gateway's own blob store, whose reads, once <see cref="Close"/>d, wait until it is opened
/// again: a table load held part-way, at a moment the test chooses. Counts the reads begun.
/// </summary>
internal sealed class GatedBlobStore(IBlobStore inner) : IBlobStore, IDisposable
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _open = Opened();
    private int _reads;
    private int _waiting;

    /// <summary>Reads begun, held or not.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Reads waiting at the gate now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Wraps the store the gateway registered; a test reaches the wrapper as the gateway's <see cref="IBlobStore"/>.</summary>
    public static void Replace(IServiceCollection services) => BlobStores.Wrap(services, inner => new GatedBlobStore(inner));

    public void Close()
    {
        lock (_lock)
        {
            _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Open()
    {
        lock (_lock)
        {
            _open.TrySetResult();
        }
    }

    public void Dispose()
    {
        Open();
        (inner as IDisposable)?.Dispose();
    }

    public async Task<Stream> OpenReadAsync(string blobId, long offset, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        Task gate;
        lock (_lock)
        {
            gate = _open.Task;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            await gate.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return await inner.OpenReadAsync(blobId, offset, cancellationToken);
    }

    public Task<IBlobSink> CreateAsync(CancellationToken cancellationToken) => inner.CreateAsync(cancellationToken);

    public Task DeleteAsync(string blobId, CancellationToken cancellationToken) => inner.DeleteAsync(blobId, cancellationToken);

    public Task<int> RemoveLeftoversAsync(IReadOnlySet<string> referenced, CancellationToken cancellationToken) =>
        inner.RemoveLeftoversAsync(referenced, cancellationToken);

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
