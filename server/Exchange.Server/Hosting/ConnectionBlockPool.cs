using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections.Features;

namespace Exchange.Server.Hosting;

/// <summary>
/// The memory each connection's TLS and HTTP/2 layers work in, in blocks the size of one full TLS
/// record (16 KiB) instead of the transport's 4 KiB. Kestrel's TLS writer hands SslStream one
/// pool block per write and SslStream seals each write as a record of its own, so with 4 KiB blocks
/// a download paid the per-record work (the server's seal, the header and tag on the wire, the
/// client's open) four times per 16 KiB; and grpc-dotnet wrote each 256 KiB message into the
/// stream's pipe a block, and a lock, at a time.
/// </summary>
internal sealed class ConnectionBlockPool : MemoryPool<byte>, IMemoryPoolFeature
{
    /// <summary>The most plaintext one TLS record carries (RFC 8446, section 5.1).</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>
    /// Blocks kept for reuse once returned (16 MiB, one connection's full receive window); a block
    /// returned beyond that is left to the garbage collector, as an ordinary small array.
    /// </summary>
    public const int MaxRetained = 1024;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _freeCount;

    public static ConnectionBlockPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    MemoryPool<byte> IMemoryPoolFeature.MemoryPool => this;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
        }
        else
        {
            // Not pinned: the blocks hold plaintext that TLS seals into its own buffer, or that the
            // HTTP layer copies into the transport's pipe; no socket reads or writes them.
            block = GC.AllocateUninitializedArray<byte>(BlockSize);
        }

        return new Lease(this, block);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(byte[] block)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxRetained)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    /// <summary>One rental: disposing it again, even after the block was rented anew, returns nothing.</summary>
    private sealed class Lease(ConnectionBlockPool pool, byte[] block) : IMemoryOwner<byte>
    {
        private byte[]? _block = block;

        public Memory<byte> Memory => _block ?? throw new ObjectDisposedException(nameof(ConnectionBlockPool));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _block, null) is { } returned)
            {
                pool.Return(returned);
            }
        }
    }
}
