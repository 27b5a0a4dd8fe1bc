using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypts and hashes a revision as its bytes arrive, one segment at a time, so an upload of any
/// size needs a few segments of memory, and seals each segment straight into the blob sink's
/// buffer. The last segment is sealed only when the stream ends, because its associated data
/// marks it as the last.
/// </summary>
internal sealed class RevisionWriter : IDisposable
{
    private readonly IBlobSink _sink;
    private readonly AesGcm _aes;
    private readonly string _revision;
    private readonly int _segmentSize;
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _plain;
    private readonly byte[] _nonce = new byte[RevisionCipher.NonceSize];
    private int _buffered;

    // A whole segment waiting to learn whether it is the last. A chunk that holds a whole segment is
    // kept by reference (a received ByteString never changes), so the common case copies nothing.
    private ReadOnlyMemory<byte> _held;
    private long _segment;
    private bool _headerWritten;

    public RevisionWriter(IBlobSink sink, byte[] dataKey, string revision, int segmentSize)
    {
        _sink = sink;
        _aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        _revision = revision;
        _segmentSize = segmentSize;
        _plain = new byte[segmentSize];
    }

    /// <summary>Plaintext bytes received so far.</summary>
    public long Length { get; private set; }

    /// <summary>Takes <paramref name="data"/>, which must not change afterwards: a whole segment of it may be sealed later.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _sha256.AppendData(data.Span);
        Length += data.Length;
        while (data.Length > 0)
        {
            if (!_held.IsEmpty)
            {
                await SealAsync(_held, last: false, cancellationToken);
                _held = default;
            }

            if (_buffered == 0 && data.Length >= _segmentSize)
            {
                _held = data[.._segmentSize];
                data = data[_segmentSize..];
                continue;
            }

            var take = Math.Min(data.Length, _segmentSize - _buffered);
            data.Span[..take].CopyTo(_plain.AsSpan(_buffered));
            _buffered += take;
            data = data[take..];
            if (_buffered == _segmentSize)
            {
                _held = _plain;
                _buffered = 0;
            }
        }
    }

    /// <summary>Seals the last segment and returns the plaintext's SHA-256; the sink is committed by the caller once it accepts that.</summary>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        await SealAsync(_held.IsEmpty ? _plain.AsMemory(0, _buffered) : _held, last: true, cancellationToken);
        return _sha256.GetHashAndReset();
    }

    public void Dispose()
    {
        _aes.Dispose();
        _sha256.Dispose();
    }

    private async ValueTask SealAsync(ReadOnlyMemory<byte> plain, bool last, CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            var header = await _sink.GetSpaceAsync(RevisionCipher.HeaderSize, cancellationToken);
            RevisionCipher.WriteHeader(header.Span, _segmentSize);
            await _sink.AdvanceAsync(RevisionCipher.HeaderSize, cancellationToken);
            _headerWritten = true;
        }

        var length = plain.Length + RevisionCipher.TagSize;
        var space = await _sink.GetSpaceAsync(length, cancellationToken);
        RevisionCipher.Nonce(_nonce, _segment);
        _aes.Encrypt(_nonce, plain.Span, space.Span[..plain.Length], space.Span[plain.Length..],
            RevisionCipher.AssociatedData(_revision, _segment, last));
        await _sink.AdvanceAsync(length, cancellationToken);
        _segment++;
    }
}
