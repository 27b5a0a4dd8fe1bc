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

    // A whole segment waiting to learn whether it is the last. A chunk that ends with a whole
    // segment is kept by reference (with its lease, if any), so the common case copies nothing.
    private ReadOnlyMemory<byte> _held;
    private IDisposable? _heldLease;
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

    /// <summary>
    /// Takes <paramref name="data"/>, which must not change until <paramref name="lease"/> is
    /// disposed: the writer disposes it as soon as it no longer needs the bytes, which may be in a
    /// later call when the chunk ends with a whole segment.
    /// </summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, IDisposable? lease, CancellationToken cancellationToken)
    {
        try
        {
            _sha256.AppendData(data.Span);
            Length += data.Length;
            while (data.Length > 0)
            {
                if (!_held.IsEmpty)
                {
                    await SealHeldAsync(last: false, cancellationToken);
                }

                if (_buffered == 0 && data.Length > _segmentSize)
                {
                    // More of this chunk follows, so this segment is not the last one.
                    await SealAsync(data[.._segmentSize], last: false, cancellationToken);
                    data = data[_segmentSize..];
                    continue;
                }

                if (_buffered == 0 && data.Length == _segmentSize)
                {
                    (_held, _heldLease, lease) = (data, lease, null);
                    break;
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
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary>Seals the last segment and returns the plaintext's SHA-256; the sink is committed by the caller once it accepts that.</summary>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        if (_held.IsEmpty)
        {
            await SealAsync(_plain.AsMemory(0, _buffered), last: true, cancellationToken);
        }
        else
        {
            await SealHeldAsync(last: true, cancellationToken);
        }

        return _sha256.GetHashAndReset();
    }

    public void Dispose()
    {
        _heldLease?.Dispose();
        _aes.Dispose();
        _sha256.Dispose();
    }

    private async ValueTask SealHeldAsync(bool last, CancellationToken cancellationToken)
    {
        await SealAsync(_held, last, cancellationToken);
        _held = default;
        var lease = _heldLease;
        _heldLease = null;
        lease?.Dispose();
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
