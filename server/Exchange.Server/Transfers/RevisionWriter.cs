using Microsoft.Win32.SafeHandles;
using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypts and hashes a revision as its bytes arrive, one segment at a time, so an upload of
/// any size needs one segment of memory. The last segment is written only when the stream ends,
/// because its associated data marks it as the last. Written data is flushed to disk in the
/// background as it accumulates, so making the finished file durable does not wait for all of it.
/// </summary>
internal sealed class RevisionWriter : IAsyncDisposable
{
    private const long FlushEvery = 32L * 1024 * 1024;

    private readonly SafeFileHandle _file;
    private long _position;
    private long _unflushed;
    private Task _flushing = Task.CompletedTask;
    private readonly AesGcm _aes;
    private readonly string _revision;
    private readonly int _segmentSize;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _plain;
    private readonly byte[] _sealed;
    private int _buffered;
    private long _segment;

    public RevisionWriter(SafeFileHandle file, byte[] dataKey, string revision, int segmentSize)
    {
        _file = file;
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _revision = revision;
        _segmentSize = segmentSize;
        _plain = new byte[segmentSize];
        _sealed = new byte[segmentSize + RevisionCipher.TagSize];
        var header = new byte[RevisionCipher.HeaderSize];
        RevisionCipher.WriteHeader(header, segmentSize);
        RandomAccess.Write(_file, header, 0);
        _position = header.Length;
    }

    /// <summary>Plaintext bytes received so far.</summary>
    public long Length { get; private set; }

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

    /// <summary>Writes the last segment, flushes the file to disk and returns the plaintext's SHA-256.</summary>
    public async Task<byte[]> CompleteAsync(CancellationToken cancellationToken)
    {
        await SealAsync(last: true, cancellationToken);
        await _flushing;
        RandomAccess.FlushToDisk(_file);
        return _sha256.GetHashAndReset();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _flushing;
        }
        catch (IOException)
        {
            // The upload is being abandoned; its file is deleted next.
        }

        _aes.Dispose();
        _sha256.Dispose();
        _file.Dispose();
    }

    private async ValueTask SealAsync(bool last, CancellationToken cancellationToken)
    {
        Span<byte> nonce = stackalloc byte[RevisionCipher.NonceSize];
        RevisionCipher.Nonce(nonce, _segment);
        _aes.Encrypt(nonce, _plain.AsSpan(0, _buffered), _sealed.AsSpan(0, _buffered), _sealed.AsSpan(_buffered, RevisionCipher.TagSize),
            RevisionCipher.AssociatedData(_revision, _segment, last));
        var length = _buffered + RevisionCipher.TagSize;
        await RandomAccess.WriteAsync(_file, _sealed.AsMemory(0, length), _position, cancellationToken);
        _position += length;
        _segment++;
        _buffered = 0;
        _unflushed += length;
        if (_unflushed >= FlushEvery && _flushing.IsCompleted)
        {
            await _flushing;
            _unflushed = 0;
            _flushing = Task.Run(() => RandomAccess.FlushToDisk(_file), CancellationToken.None);
        }
    }
}
