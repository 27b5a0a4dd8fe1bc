using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypts and hashes a revision as its bytes arrive, one segment at a time, so an upload of any
/// size needs a few segments of memory, and appends the sealed segments to a blob sink. The last
/// segment is sealed only when the stream ends, because its associated data marks it as the last.
/// </summary>
internal sealed class RevisionWriter : IDisposable
{
    private readonly IBlobSink _sink;
    private readonly AesGcm _aes;
    private readonly string _revision;
    private readonly int _segmentSize;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _plain;
    private readonly byte[] _sealed;
    private readonly byte[] _nonce = new byte[RevisionCipher.NonceSize];
    private int _buffered;
    private long _segment;
    private bool _headerWritten;

    public RevisionWriter(IBlobSink sink, byte[] dataKey, string revision, int segmentSize)
    {
        _sink = sink;
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _revision = revision;
        _segmentSize = segmentSize;
        _plain = new byte[segmentSize];
        _sealed = new byte[segmentSize + RevisionCipher.TagSize];
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

    /// <summary>Seals the last segment and returns the plaintext's SHA-256; the sink is committed by the caller once it accepts that.</summary>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        await SealAsync(last: true, cancellationToken);
        return _sha256.GetHashAndReset();
    }

    public void Dispose()
    {
        _aes.Dispose();
        _sha256.Dispose();
    }

    private async ValueTask SealAsync(bool last, CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            var header = new byte[RevisionCipher.HeaderSize];
            RevisionCipher.WriteHeader(header, _segmentSize);
            await _sink.WriteAsync(header, cancellationToken);
            _headerWritten = true;
        }

        RevisionCipher.Nonce(_nonce, _segment);
        _aes.Encrypt(_nonce, _plain.AsSpan(0, _buffered), _sealed.AsSpan(0, _buffered), _sealed.AsSpan(_buffered, RevisionCipher.TagSize),
            RevisionCipher.AssociatedData(_revision, _segment, last));
        await _sink.WriteAsync(_sealed.AsMemory(0, _buffered + RevisionCipher.TagSize), cancellationToken);
        _segment++;
        _buffered = 0;
    }
}
