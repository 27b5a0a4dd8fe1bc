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

    /// <summary>Blocks kept for reuse once returned (16 MiB); more than that in use at once are left to the garbage collector when returned.</summary>
    public const int MaxRetained = 1024;

    private readonly ConcurrentQueue<Block> _free = new();
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
            block = new Block(this);
        }

        block.Rented = 1;
        return block;
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
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

    private sealed class Block(ConnectionBlockPool pool) : IMemoryOwner<byte>
    {
        // Pinned, as the transport's own blocks are, so a socket write from one never pins it again.
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public int Rented;

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            // Once only: a block returned twice would be handed to two renters.
            if (Interlocked.Exchange(ref Rented, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
