using System.Buffers;
using System.Runtime.InteropServices;

namespace Exchange.Server.Transfers;

/// <summary>
/// The bytes of one received upload chunk in an array rented from the shared pool, so an upload
/// reuses a few warm buffers instead of allocating (and zeroing) a fresh one per message.
/// Disposing gives the array back; after that the memory must not be touched, and asking for it
/// again throws rather than hand out bytes another upload may be writing.
/// </summary>
internal sealed class PooledChunk : MemoryManager<byte>
{
    private readonly int _length;
    private byte[]? _array;

    private PooledChunk(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>Copies <paramref name="bytes"/> into a rented array.</summary>
    public static PooledChunk CopyOf(in ReadOnlySequence<byte> bytes)
    {
        var length = checked((int)bytes.Length);
        var chunk = new PooledChunk(ArrayPool<byte>.Shared.Rent(length), length);
        bytes.CopyTo(chunk._array);
        return chunk;
    }

    /// <summary>The chunk that owns <paramref name="memory"/>, or null when it was not received into a pooled buffer.</summary>
    public static PooledChunk? Owning(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetMemoryManager<byte, PooledChunk>(memory, out var chunk) ? chunk : null;

    public override Span<byte> GetSpan() => Array().AsSpan(0, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => Array().AsMemory(elementIndex, _length - elementIndex).Pin();

    public override void Unpin()
    {
        // The array's own handle from Pin unpins itself.
    }

    protected override void Dispose(bool disposing)
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private byte[] Array() => _array ?? throw new ObjectDisposedException(nameof(PooledChunk), "An upload chunk was used after its buffer went back to the pool.");
}
