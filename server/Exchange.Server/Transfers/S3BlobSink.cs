using Amazon.S3.Model;

namespace Exchange.Server.Transfers;

/// <summary>One multipart upload: bytes are gathered into parts of at least <see cref="S3BlobStore.PartSize"/> and sent as they fill.</summary>
internal sealed class S3BlobSink(S3BlobStore store, string blobId, string uploadId) : IBlobSink
{
    private byte[] _part = new byte[store.PartSize + (1024 * 1024)];
    private readonly List<PartETag> _etags = [];
    private int _filled;
    private bool _committed;

    public string BlobId { get; } = blobId;

    public ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken)
    {
        if (_part.Length - _filled < length)
        {
            // Parts need not be equal, only at least 5 MiB: this one grows to take the segment whole.
            Array.Resize(ref _part, _filled + length);
        }

        return ValueTask.FromResult(_part.AsMemory(_filled, length));
    }

    public async ValueTask AdvanceAsync(int length, CancellationToken cancellationToken)
    {
        _filled += length;
        if (_filled >= store.PartSize)
        {
            await SendPartAsync(cancellationToken);
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0 || _etags.Count == 0)
        {
            await SendPartAsync(cancellationToken);
        }

        await store.Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = store.Bucket,
            Key = store.KeyOf(BlobId),
            UploadId = uploadId,
            PartETags = _etags,
        }, cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_committed)
        {
            try
            {
                await store.Client.AbortMultipartUploadAsync(store.Bucket, store.KeyOf(BlobId), uploadId, CancellationToken.None);
            }
            catch (Amazon.S3.AmazonS3Exception)
            {
                // Left for the start-up sweep, which aborts unfinished uploads.
            }
        }
    }

    private async Task SendPartAsync(CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(_part, 0, _filled, writable: false);
        var response = await store.Client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = store.Bucket,
            Key = store.KeyOf(BlobId),
            UploadId = uploadId,
            PartNumber = _etags.Count + 1,
            InputStream = body,
            PartSize = _filled,
            // aws-chunked framing would be stored inside the object by some S3-compatible servers.
            UseChunkEncoding = false,
        }, cancellationToken);
        _etags.Add(new PartETag(_etags.Count + 1, response.ETag));
        _filled = 0;
    }
}
