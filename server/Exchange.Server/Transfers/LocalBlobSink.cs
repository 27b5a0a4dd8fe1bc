using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Exchange.Server.Transfers;

/// <summary>
/// A blob file written unbuffered (O_DIRECT where the file system allows) from an aligned staging
/// buffer in large aligned blocks: on a busy machine the page-cache copy costs as much CPU as
/// the network transfer itself. The last block is padded and the file cut to its exact length.
/// </summary>
internal sealed class LocalBlobSink : IBlobSink
{
    private const int BlockTarget = 1024 * 1024;

    private readonly LocalBlobStore _store;
    private readonly SafeFileHandle _file;
    private readonly bool _direct;
    private readonly string _temporary;
    private byte[] _array;
    private int _start;
    private int _capacity;
    private int _staged;
    private long _written;
    private bool _committed;

    public LocalBlobSink(LocalBlobStore store, string blobId, string temporary)
    {
        _store = store;
        BlobId = blobId;
        _temporary = temporary;
        _file = DirectFile.CreateNew(temporary, out _direct);
        _capacity = (2 * BlockTarget) + DirectFile.Alignment;
        _array = AllocateAligned(_capacity, out _start);
    }

    public string BlobId { get; }

    private Memory<byte> Stage => _array.AsMemory(_start, _capacity);

    public async ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken)
    {
        if (_capacity - _staged < length)
        {
            await WriteBlocksAsync(cancellationToken);
        }

        if (_capacity - _staged < length)
        {
            // Room for this segment, the next one's tag-shifted start, and a whole block more: grown once, not per segment.
            Grow(_staged + length + DirectFile.Alignment + BlockTarget);
        }

        return Stage.Slice(_staged, length);
    }

    public async ValueTask AdvanceAsync(int length, CancellationToken cancellationToken)
    {
        _staged += length;
        if (_staged >= BlockTarget)
        {
            await WriteBlocksAsync(cancellationToken);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var exact = _written + _staged;
        var tail = _direct ? (_staged + DirectFile.Alignment - 1) / DirectFile.Alignment * DirectFile.Alignment : _staged;
        Stage.Span[_staged..tail].Clear();
        await RandomAccess.WriteAsync(_file, Stage[..tail], _written, cancellationToken);
        if (tail != _staged)
        {
            // Direct writes come in whole blocks; the padding of the last one is cut off again.
            RandomAccess.SetLength(_file, exact);
        }

        RandomAccess.FlushToDisk(_file);
        _file.Dispose();
        _store.Place(_temporary, BlobId);
        _committed = true;
    }

    /// <summary>Writes every whole aligned block staged and moves the rest (less than one block) to the front.</summary>
    private async ValueTask WriteBlocksAsync(CancellationToken cancellationToken)
    {
        var block = _staged / DirectFile.Alignment * DirectFile.Alignment;
        if (block == 0)
        {
            return;
        }

        await RandomAccess.WriteAsync(_file, Stage[..block], _written, cancellationToken);
        _written += block;
        Stage.Span[block.._staged].CopyTo(Stage.Span);
        _staged -= block;
    }

    /// <summary>Only a segment larger than the staging buffer gets here; the buffer grows to hold it whole.</summary>
    private void Grow(int capacity)
    {
        var array = AllocateAligned(capacity, out var start);
        Stage.Span[.._staged].CopyTo(array.AsSpan(start));
        (_array, _start, _capacity) = (array, start, capacity);
    }

    private static byte[] AllocateAligned(int capacity, out int start)
    {
        var array = GC.AllocateUninitializedArray<byte>(capacity + DirectFile.Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        start = (int)((DirectFile.Alignment - (address % DirectFile.Alignment)) % DirectFile.Alignment);
        return array;
    }

    public ValueTask DisposeAsync()
    {
        _file.Dispose();
        if (!_committed)
        {
            LocalBlobStore.DeleteQuietly(_temporary);
        }

        return ValueTask.CompletedTask;
    }
}
