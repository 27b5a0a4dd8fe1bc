using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Transfers;

/// <summary>
/// The gateway's own blob store, whose storage runs out after <see cref="FreeBytes"/> more bytes:
/// a write past that fails as the operating system fails it, with ENOSPC.
/// </summary>
internal sealed class FullBlobStore(IBlobStore inner) : IBlobStore, IDisposable
{
    private long _freeBytes = long.MaxValue;

    public long FreeBytes
    {
        get => Interlocked.Read(ref _freeBytes);
        set => Interlocked.Exchange(ref _freeBytes, value);
    }

    /// <summary>Wraps the store the gateway registered; a test reaches the wrapper as the gateway's <see cref="IBlobStore"/>.</summary>
    public static void Replace(IServiceCollection services) => BlobStores.Wrap(services, inner => new FullBlobStore(inner));

    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>With no space left at all, not even the file can be created.</summary>
    public async Task<IBlobSink> CreateAsync(CancellationToken cancellationToken)
    {
        if (FreeBytes <= 0)
        {
            throw NoSpace();
        }

        return new Sink(this, await inner.CreateAsync(cancellationToken));
    }

    public Task<Stream> OpenReadAsync(string blobId, long offset, CancellationToken cancellationToken) => inner.OpenReadAsync(blobId, offset, cancellationToken);

    public Task DeleteAsync(string blobId, CancellationToken cancellationToken) => inner.DeleteAsync(blobId, cancellationToken);

    public Task<int> RemoveLeftoversAsync(IReadOnlySet<string> referenced, CancellationToken cancellationToken) =>
        inner.RemoveLeftoversAsync(referenced, cancellationToken);

    private void Take(int length)
    {
        if (Interlocked.Add(ref _freeBytes, -length) < 0)
        {
            throw NoSpace();
        }
    }

    /// <summary>As .NET reports ENOSPC on Linux (checked against /dev/full): the errno is the HResult.</summary>
    private static IOException NoSpace() => new("No space left on device", 28);

    private sealed class Sink(FullBlobStore store, IBlobSink inner) : IBlobSink
    {
        public string BlobId => inner.BlobId;

        public ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken) => inner.GetSpaceAsync(length, cancellationToken);

        public ValueTask AdvanceAsync(int length, CancellationToken cancellationToken)
        {
            store.Take(length);
            return inner.AdvanceAsync(length, cancellationToken);
        }

        public Task CommitAsync(CancellationToken cancellationToken) => inner.CommitAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
