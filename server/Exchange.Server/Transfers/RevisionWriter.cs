using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypts and hashes a revision as its bytes arrive, one segment at a time, so an upload of
/// any size needs one segment of memory. The last segment is written only when the stream ends,
/// because its associated data marks it as the last.
/// </summary>
internal sealed class RevisionWriter : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly AesGcm _aes;
    private readonly string _revision;
    private readonly int _segmentSize;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _plain;
    private readonly byte[] _sealed;
    private int _buffered;
    private long _segment;

    public RevisionWriter(FileStream file, byte[] dataKey, string revision, int segmentSize)
    {
        _file = file;
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _revision = revision;
        _segmentSize = segmentSize;
        _plain = new byte[segmentSize];
        _sealed = new byte[segmentSize + RevisionCipher.TagSize];
        var header = new byte[RevisionCipher.HeaderSize];
        RevisionCipher.WriteHeader(header, segmentSize);
        _file.Write(header);
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
        await _file.FlushAsync(cancellationToken);
        _file.Flush(flushToDisk: true);
        return _sha256.GetHashAndReset();
    }

    public async ValueTask DisposeAsync()
    {
        _aes.Dispose();
        _sha256.Dispose();
        await _file.DisposeAsync();
    }

    private async ValueTask SealAsync(bool last, CancellationToken cancellationToken)
    {
        Span<byte> nonce = stackalloc byte[RevisionCipher.NonceSize];
        RevisionCipher.Nonce(nonce, _segment);
        _aes.Encrypt(nonce, _plain.AsSpan(0, _buffered), _sealed.AsSpan(0, _buffered), _sealed.AsSpan(_buffered, RevisionCipher.TagSize),
            RevisionCipher.AssociatedData(_revision, _segment, last));
        await _file.WriteAsync(_sealed.AsMemory(0, _buffered + RevisionCipher.TagSize), cancellationToken);
        _segment++;
        _buffered = 0;
    }
}
