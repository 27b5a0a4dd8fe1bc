using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypts and hashes a revision as its bytes arrive, one segment at a time, so an upload of any
/// size needs a few segments of memory. Segments are sealed straight into an aligned staging
/// buffer that is written out in large aligned blocks (which O_DIRECT files require). The last
/// segment is written only when the stream ends, because its associated data marks it as the last.
/// </summary>
internal sealed class RevisionWriter : IAsyncDisposable
{
    private const int BlockTarget = 1024 * 1024;

    private readonly SafeFileHandle _file;
    private readonly bool _direct;
    private readonly AesGcm _aes;
    private readonly string _revision;
    private readonly int _segmentSize;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _plain;
    private readonly byte[] _stageArray;
    private readonly int _stageStart;
    private readonly int _stageCapacity;
    private int _staged;
    private int _buffered;
    private long _segment;
    private long _written;

    public RevisionWriter(SafeFileHandle file, bool direct, byte[] dataKey, string revision, int segmentSize)
    {
        _file = file;
        _direct = direct;
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _revision = revision;
        _segmentSize = segmentSize;
        _plain = new byte[segmentSize];
        _stageCapacity = BlockTarget + segmentSize + RevisionCipher.TagSize + DirectFile.Alignment;
        _stageArray = GC.AllocateUninitializedArray<byte>(_stageCapacity + DirectFile.Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(_stageArray, 0);
        _stageStart = (int)((DirectFile.Alignment - (address % DirectFile.Alignment)) % DirectFile.Alignment);
        RevisionCipher.WriteHeader(Stage.Span, segmentSize);
        _staged = RevisionCipher.HeaderSize;
    }

    /// <summary>Plaintext bytes received so far.</summary>
    public long Length { get; private set; }

    private Memory<byte> Stage => _stageArray.AsMemory(_stageStart, _stageCapacity);

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _sha256.AppendData(data.Span);
        Length += data.Length;
        while (data.Length > 0)
        {
            if (_buffered == _segmentSize)
            {
                await SealAsync(last: false, cancellationToken);
            }

            var take = Math.Min(data.Length, _segmentSize - _buffered);
            data.Span[..take].CopyTo(_plain.AsSpan(_buffered));
            _buffered += take;
            data = data[take..];
        }
    }

    /// <summary>Writes the last segment, makes the file durable and returns the plaintext's SHA-256.</summary>
    public async Task<byte[]> CompleteAsync(CancellationToken cancellationToken)
    {
        await SealAsync(last: true, cancellationToken);
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
        return _sha256.GetHashAndReset();
    }

    public ValueTask DisposeAsync()
    {
        _aes.Dispose();
        _sha256.Dispose();
        _file.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask SealAsync(bool last, CancellationToken cancellationToken)
    {
        var stage = Stage;
        var sealedLength = _buffered + RevisionCipher.TagSize;
        var nonce = new byte[RevisionCipher.NonceSize];
        RevisionCipher.Nonce(nonce, _segment);
        _aes.Encrypt(nonce, _plain.AsSpan(0, _buffered), stage.Span.Slice(_staged, _buffered),
            stage.Span.Slice(_staged + _buffered, RevisionCipher.TagSize), RevisionCipher.AssociatedData(_revision, _segment, last));
        _staged += sealedLength;
        _segment++;
        _buffered = 0;
        if (_staged >= BlockTarget && !last)
        {
            var block = _staged / DirectFile.Alignment * DirectFile.Alignment;
            await RandomAccess.WriteAsync(_file, stage[..block], _written, cancellationToken);
            _written += block;
            stage.Span[block.._staged].CopyTo(stage.Span);
            _staged -= block;
        }
    }
}
