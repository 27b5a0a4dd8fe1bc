using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Exchange.Server.Transfers;

/// <summary>
/// A blob file written unbuffered (O_DIRECT where the file system allows) from aligned staging
/// buffers in large aligned blocks: on a busy machine the page-cache copy costs as much CPU as
/// the network transfer itself. Two buffers take turns, so the next segments are sealed into one
/// while the other is on its way to the device: an unbuffered write waits for the device, and an
/// upload that waited with it would leave the cores idle. The last block is padded and the file
/// cut to its exact length.
/// </summary>
internal sealed class LocalBlobSink : IBlobSink
{
    // Writes of 4 MiB cost the kernel less per byte than 1 MiB ones, and left an upload measurably faster here.
    private const int BlockTarget = 4 * 1024 * 1024;

    /// <summary>Segments up to this size (the default is 256 KiB) fit beside a block without growing the buffers.</summary>
    private const int SegmentRoom = 1024 * 1024;

    private readonly LocalBlobStore _store;
    private readonly SafeFileHandle _file;
    private readonly bool _direct;
    private readonly string _temporary;

    // Segments are sealed into _stage; _spare is the buffer being written from until _writing completes.
    private Memory<byte> _stage;
    private Memory<byte> _spare;
    private Task _writing = Task.CompletedTask;
    private int _staged;
    private long _written;
    private bool _committed;

    public LocalBlobSink(LocalBlobStore store, string blobId, string temporary)
    {
        _store = store;
        BlobId = blobId;
        _temporary = temporary;
        _file = DirectFile.CreateNew(temporary, out _direct);
        var capacity = BlockTarget + SegmentRoom + DirectFile.Alignment;
        (_stage, _spare) = (AllocateAligned(capacity), AllocateAligned(capacity));
    }

    public string BlobId { get; }

    public async ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken)
    {
        if (_stage.Length - _staged < length)
        {
            await WriteBlocksAsync(cancellationToken);
        }

        if (_stage.Length - _staged < length)
        {
            // Room for this segment, the next one's tag-shifted start, and a whole block more: grown once, not per segment.
            await GrowAsync(_staged + length + DirectFile.Alignment + BlockTarget);
        }

        return _stage.Slice(_staged, length);
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
        // A failed earlier write surfaces here, before anything is placed.
        await _writing;
        var exact = _written + _staged;
        var tail = _direct ? (_staged + DirectFile.Alignment - 1) / DirectFile.Alignment * DirectFile.Alignment : _staged;
        _stage.Span[_staged..tail].Clear();
        await RandomAccess.WriteAsync(_file, _stage[..tail], _written, cancellationToken);
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

    /// <summary>
    /// Starts writing every whole aligned block staged, once the previous write is done, and goes on
    /// staging in the other buffer from the rest (less than one block).
    /// </summary>
    private async ValueTask WriteBlocksAsync(CancellationToken cancellationToken)
    {
        var block = _staged / DirectFile.Alignment * DirectFile.Alignment;
        if (block == 0)
        {
            return;
        }

        await _writing;
        _stage.Span[block.._staged].CopyTo(_spare.Span);
        _writing = RandomAccess.WriteAsync(_file, _stage[..block], _written, cancellationToken).AsTask();
        _written += block;
        _staged -= block;
        (_stage, _spare) = (_spare, _stage);
    }

    /// <summary>Only a segment larger than the staging buffers gets here; both grow to hold it whole.</summary>
    private async Task GrowAsync(int capacity)
    {
        await _writing;
        var stage = AllocateAligned(capacity);
        _stage.Span[.._staged].CopyTo(stage.Span);
        (_stage, _spare) = (stage, AllocateAligned(capacity));
    }

    private static Memory<byte> AllocateAligned(int capacity)
    {
        var array = GC.AllocateUninitializedArray<byte>(capacity + DirectFile.Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        var start = (int)((DirectFile.Alignment - (address % DirectFile.Alignment)) % DirectFile.Alignment);
        return array.AsMemory(start, capacity);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_committed)
        {
            // An abandoned blob's write still in flight ends before its file goes; its failure is not the one to report.
            await _writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _file.Dispose();
        if (!_committed)
        {
            LocalBlobStore.DeleteQuietly(_temporary);
        }
    }
}
