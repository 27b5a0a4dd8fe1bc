using System.Buffers;
using System.Runtime.InteropServices;

namespace Exchange.Server.Transfers;

/// <summary>
/// The bytes of one received upload chunk in an array rented from a pool of its own, so an upload
/// reuses a few warm buffers instead of allocating (and zeroing) a fresh one per message.
/// Disposing gives the array back; after that the memory must not be touched, and asking for it
/// again throws rather than hand out bytes another upload may be writing.
/// </summary>
internal sealed class PooledChunk : MemoryManager<byte>
{
    /// <summary>The largest chunk taken from the pool; larger ones (the client chooses) are parsed as usual.</summary>
    public const int MaxPooled = 1024 * 1024;

    // Bounded, unlike the shared pool, which keeps dozens of arrays per size and core until a full
    // collection: at most 32 arrays per power-of-two size up to MaxPooled stay idle (under 64 MiB
    // if every size were used, 8 MiB for the default 256 KiB chunks).
    private static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(MaxPooled, 32);

    private readonly int _length;
    private byte[]? _array;

    private PooledChunk(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>Copies <paramref name="bytes"/> (at most <see cref="MaxPooled"/>) into a rented array.</summary>
    public static PooledChunk CopyOf(in ReadOnlySequence<byte> bytes)
    {
        var length = checked((int)bytes.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxPooled);
        var chunk = new PooledChunk(Pool.Rent(length), length);
        bytes.CopyTo(chunk._array);
        return chunk;
    }

    /// <summary>The chunk that owns <paramref name="memory"/>, or null when it was not received into a pooled buffer.</summary>
    public static PooledChunk? Owning(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetMemoryManager<byte, PooledChunk>(memory, out var chunk) ? chunk : null;

    /// <summary>Gives back the pooled buffer behind <paramref name="memory"/>, if there is one: for a chunk that will not reach the writer.</summary>
    public static void Release(ReadOnlyMemory<byte> memory) => ((IDisposable?)Owning(memory))?.Dispose();

    public override Span<byte> GetSpan() => Array().AsSpan(0, _length);

    // A pin would outlive nothing it could be checked against: the array could go back to the pool
    // while still pinned and written to. Nothing pins upload chunks, and nothing must start to unnoticed.
    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("Upload chunks are not pinned.");

    public override void Unpin() => throw new NotSupportedException("Upload chunks are not pinned.");

    protected override void Dispose(bool disposing)
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            Pool.Return(array);
        }
    }

    private byte[] Array() => _array ?? throw new ObjectDisposedException(nameof(PooledChunk), "An upload chunk was used after its buffer went back to the pool.");
}
