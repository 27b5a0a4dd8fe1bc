using Amazon.S3.Model;

namespace Exchange.Server.Transfers;

/// <summary>
/// One multipart upload: bytes are gathered into parts of at least <see cref="S3BlobStore.PartSize"/>.
/// Two part buffers take turns, so the next segments are sealed into one while the other is on its
/// way to the bucket: an upload that waited for every part's round trip would leave the cores idle.
/// </summary>
internal sealed class S3BlobSink : IBlobSink
{
    private readonly S3BlobStore _store;
    private readonly string _uploadId;
    private readonly Func<int, ArraySegment<byte>, CancellationToken, Task<string>> _send;
    private readonly List<PartETag> _etags = [];

    // The bucket may still be reading _spare until _sending completes; it is allocated at the first
    // part, so an upload smaller than a part holds one buffer.
    private byte[] _part;
    private byte[]? _spare;
    private Task _sending = Task.CompletedTask;
    private int _filled;
    private int _parts;
    private bool _committed;

    /// <summary>
    /// A sink for the multipart upload <paramref name="uploadId"/> of <paramref name="blobId"/>. Its
    /// parts go through <paramref name="send"/> (part number, bytes; returns the ETag), which is
    /// <see cref="S3BlobStore.UploadPartAsync"/> unless a test holds parts back or fails them.
    /// </summary>
    public S3BlobSink(S3BlobStore store, string blobId, string uploadId, Func<int, ArraySegment<byte>, CancellationToken, Task<string>>? send = null)
    {
        _store = store;
        BlobId = blobId;
        _uploadId = uploadId;
        _send = send ?? ((number, part, cancellationToken) => store.UploadPartAsync(blobId, uploadId, number, part, cancellationToken));
        _part = new byte[store.PartSize + (1024 * 1024)];
    }

    public string BlobId { get; }

    public ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken)
    {
        if (_part.Length - _filled < length)
        {
            // Parts need not be equal, only at least 5 MiB: this one grows to take the segment whole.
            // It is never the one being sent.
            Array.Resize(ref _part, _filled + length);
        }

        return ValueTask.FromResult(_part.AsMemory(_filled, length));
    }

    public async ValueTask AdvanceAsync(int length, CancellationToken cancellationToken)
    {
        _filled += length;
        if (_filled >= _store.PartSize)
        {
            await StartPartAsync(cancellationToken);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        // A failed earlier part surfaces here, before the object is completed.
        await _sending;
        if (_filled > 0 || _parts == 0)
        {
            await SendAsync(++_parts, new ArraySegment<byte>(_part, 0, _filled), cancellationToken);
        }

        await _store.Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _store.Bucket,
            Key = _store.KeyOf(BlobId),
            UploadId = _uploadId,
            PartETags = _etags,
        }, cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_committed)
        {
            return;
        }

        // An abandoned upload's part still in flight ends before the upload is aborted; its failure is not the one to report.
        await _sending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await _store.Client.AbortMultipartUploadAsync(_store.Bucket, _store.KeyOf(BlobId), _uploadId, CancellationToken.None);
        }
        catch (Amazon.S3.AmazonS3Exception)
        {
            // Left for the start-up sweep, which aborts unfinished uploads.
        }
    }

    /// <summary>Starts sending the filled part, once the one before it has arrived, and goes on in the other buffer.</summary>
    private async Task StartPartAsync(CancellationToken cancellationToken)
    {
        await _sending;
        _sending = SendAsync(++_parts, new ArraySegment<byte>(_part, 0, _filled), cancellationToken);
        (_part, _spare) = (_spare ?? new byte[_part.Length], _part);
        _filled = 0;
    }

    private async Task SendAsync(int number, ArraySegment<byte> part, CancellationToken cancellationToken) =>
        _etags.Add(new PartETag(number, await _send(number, part, cancellationToken)));
}
