using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// A stored revision as a read-only, seekable stream of its plaintext, for readers that jump
/// around a file (Parquet keeps its metadata at the end). Segments are decrypted on demand and
/// only the current one is held, in memory: plaintext never goes to disk. Reading on from the
/// current segment continues the open blob stream; going back, or far ahead, reopens the blob at
/// the segment needed. A segment that does not authenticate is DATA_LOSS, as for a download.
/// </summary>
internal sealed class RevisionStream : Stream
{
    // Skipping this many sealed segments is cheaper than reopening the blob (an S3 request).
    private const int ReadThroughSegments = 2;

    private readonly IBlobStore _blobs;
    private readonly string _blobId;
    private readonly string _revision;
    private readonly long _size;
    private readonly int _segmentSize;
    private readonly int _segments;
    private readonly AesGcm _aes;
    private readonly byte[] _buffer;
    private readonly byte[] _nonce = new byte[RevisionCipher.NonceSize];
    private Stream? _file;

    // The segment the open blob stream is at, and the one whose plaintext is in the buffer (-1: none).
    private long _fileSegment;
    private long _held = -1;
    private long _position;

    public RevisionStream(IBlobStore blobs, string blobId, byte[] dataKey, string revision, long size, int segmentSize)
    {
        (_blobs, _blobId, _revision, _size, _segmentSize) = (blobs, blobId, revision, size, segmentSize);
        _segments = RevisionCipher.SegmentCount(size, segmentSize);
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _buffer = new byte[segmentSize + RevisionCipher.TagSize];
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _size;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "A position is not negative.");
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => _size + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= _size || buffer.IsEmpty)
        {
            return 0;
        }

        // The blob store opens asynchronously only; reading through an open file is synchronous.
        LoadAsync(_position / _segmentSize, sync: true, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return CopyOut(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= _size || buffer.IsEmpty)
        {
            return 0;
        }

        await LoadAsync(_position / _segmentSize, sync: false, cancellationToken);
        return CopyOut(buffer.Span);
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("A stored revision is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A stored revision is read-only.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
            _file = null;
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_buffer);
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
            _file = null;
        }

        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Copies from the held segment at the position; a read ends at the segment's end.</summary>
    private int CopyOut(Span<byte> buffer)
    {
        var start = _segmentSize * _held;
        var at = (int)(_position - start);
        var length = (int)Math.Min(_segmentSize, _size - start);
        var count = Math.Min(buffer.Length, length - at);
        _buffer.AsSpan(at, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    /// <summary>Decrypts segment <paramref name="index"/> into the buffer, unless it is there already.</summary>
    private async ValueTask LoadAsync(long index, bool sync, CancellationToken cancellationToken)
    {
        if (_held == index)
        {
            return;
        }

        _held = -1;
        if (_file is null || index < _fileSegment || index - _fileSegment > ReadThroughSegments)
        {
            await OpenAsync(index, sync, cancellationToken);
        }

        for (; _fileSegment < index; _fileSegment++)
        {
            await ReadSealedAsync(_fileSegment, sync, cancellationToken);
        }

        var length = await ReadSealedAsync(index, sync, cancellationToken);
        _fileSegment = index + 1;
        var sealedSegment = _buffer.AsSpan(0, length + RevisionCipher.TagSize);
        RevisionCipher.Nonce(_nonce, index);
        try
        {
            _aes.Decrypt(_nonce, sealedSegment[..length], sealedSegment[length..], sealedSegment[..length],
                RevisionCipher.AssociatedData(_revision, index, index == _segments - 1));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw RevisionReader.DataLoss(_revision, $"segment {index} does not authenticate");
        }

        _held = index;
    }

    private async ValueTask OpenAsync(long index, bool sync, CancellationToken cancellationToken)
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
            _file = null;
        }

        var from = index == 0 ? 0 : RevisionCipher.SegmentOffset(index, _segmentSize);
        _file = await _blobs.OpenReadAsync(_blobId, from, cancellationToken);
        _fileSegment = index;
        if (index == 0)
        {
            var header = _buffer.AsMemory(0, RevisionCipher.HeaderSize);
            await ReadExactlyAsync(header, sync, cancellationToken);
            if (RevisionCipher.ReadHeader(header.Span) != _segmentSize)
            {
                throw RevisionReader.DataLoss(_revision, "its header is damaged");
            }
        }
    }

    /// <summary>Reads segment <paramref name="index"/>'s ciphertext and tag into the buffer; returns its plaintext length.</summary>
    private async ValueTask<int> ReadSealedAsync(long index, bool sync, CancellationToken cancellationToken)
    {
        var length = (int)Math.Min(_segmentSize, _size - (index * _segmentSize));
        await ReadExactlyAsync(_buffer.AsMemory(0, length + RevisionCipher.TagSize), sync, cancellationToken);
        return length;
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> buffer, bool sync, CancellationToken cancellationToken)
    {
        try
        {
            if (sync)
            {
                _file!.ReadExactly(buffer.Span);
            }
            else
            {
                await _file!.ReadExactlyAsync(buffer, cancellationToken);
            }
        }
        catch (EndOfStreamException)
        {
            throw RevisionReader.DataLoss(_revision, "its file is shorter than it should be");
        }
    }
}
