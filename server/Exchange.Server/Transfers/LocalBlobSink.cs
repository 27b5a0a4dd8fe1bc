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
    private readonly Func<SafeFileHandle, ReadOnlyMemory<byte>, long, CancellationToken, ValueTask> _write;

    // The device may still be reading _spare until _writing completes; it is allocated at the first
    // block, so an upload smaller than a block holds one buffer.
    private Memory<byte> _stage;
    private Memory<byte> _spare;
    private Task _writing = Task.CompletedTask;
    private int _staged;
    private long _written;
    private bool _committed;

    /// <summary>
    /// A sink for a new file at <paramref name="temporary"/>, placed as <paramref name="blobId"/> in
    /// <paramref name="store"/> on commit. Its writes go through <paramref name="write"/>, which is
    /// <see cref="RandomAccess.WriteAsync(SafeFileHandle, ReadOnlyMemory{byte}, long, CancellationToken)"/>
    /// unless a test holds writes back or fails them.
    /// </summary>
    public LocalBlobSink(LocalBlobStore store, string blobId, string temporary,
        Func<SafeFileHandle, ReadOnlyMemory<byte>, long, CancellationToken, ValueTask>? write = null)
    {
        _store = store;
        BlobId = blobId;
        _temporary = temporary;
        _write = write ?? RandomAccess.WriteAsync;
        _file = DirectFile.CreateNew(temporary, out _direct);
        _stage = AllocateAligned(BlockTarget + SegmentRoom + DirectFile.Alignment);
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
        await _write(_file, _stage[..tail], _written, cancellationToken);
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
    /// Starts writing every whole aligned block staged and goes on in the other buffer. Unbuffered
    /// writes must start on an aligned offset, so the rest (less than one alignment unit) moves to
    /// the other buffer's front, once the device is done with it.
    /// </summary>
    private async ValueTask WriteBlocksAsync(CancellationToken cancellationToken)
    {
        var block = _staged / DirectFile.Alignment * DirectFile.Alignment;
        if (block == 0)
        {
            return;
        }

        await _writing;
        if (_spare.IsEmpty)
        {
            _spare = AllocateAligned(_stage.Length);
        }

        _stage.Span[block.._staged].CopyTo(_spare.Span);
        _writing = _write(_file, _stage[..block], _written, cancellationToken).AsTask();
        _written += block;
        _staged -= block;
        (_stage, _spare) = (_spare, _stage);
    }

    /// <summary>Only a segment larger than the staging buffers gets here; both grow to hold it whole (the other at its next turn).</summary>
    private async Task GrowAsync(int capacity)
    {
        await _writing;
        var stage = AllocateAligned(capacity);
        _stage.Span[.._staged].CopyTo(stage.Span);
        (_stage, _spare) = (stage, default);
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
