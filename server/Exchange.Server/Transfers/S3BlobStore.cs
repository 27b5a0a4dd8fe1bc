using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Exchange.Server.Transfers;

/// <summary>
/// Revision blobs in an S3-compatible bucket, written with multipart uploads. An object exists
/// only once its upload completes; uploads that never complete are aborted, and objects no
/// revision refers to are removed, on start — but only once they are old enough that another
/// replica cannot still be committing them.
/// </summary>
internal sealed class S3BlobStore : IBlobStore, IDisposable
{
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromHours(1);

    private readonly S3Options _options;
    private readonly TimeProvider _time;

    public S3BlobStore(S3Options options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires them: S3-compatible servers differ on the rest.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        Client = string.IsNullOrWhiteSpace(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    internal AmazonS3Client Client { get; }

    internal string Bucket => _options.Bucket;

    internal int PartSize => Math.Max(_options.PartSize, 5 * 1024 * 1024);

    internal string KeyOf(string blobId) => _options.Prefix + blobId;

    public async Task<IBlobSink> CreateAsync(CancellationToken cancellationToken)
    {
        var blobId = LocalBlobStore.NewBlobId();
        var upload = await Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = KeyOf(blobId) },
            cancellationToken);
        return new S3BlobSink(this, blobId, upload.UploadId);
    }

    /// <summary>Sends part <paramref name="number"/> of a multipart upload; returns its ETag.</summary>
    internal async Task<string> UploadPartAsync(string blobId, string uploadId, int number, ArraySegment<byte> part, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(part.Array!, part.Offset, part.Count, writable: false);
        var response = await Client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = Bucket,
            Key = KeyOf(blobId),
            UploadId = uploadId,
            PartNumber = number,
            InputStream = body,
            PartSize = part.Count,
            // aws-chunked framing would be stored inside the object by some S3-compatible servers.
            UseChunkEncoding = false,
        }, cancellationToken);
        return response.ETag;
    }

    public async Task<Stream> OpenReadAsync(string blobId, long offset, CancellationToken cancellationToken)
    {
        var response = await Client.GetObjectAsync(new GetObjectRequest
        {
            BucketName = Bucket,
            Key = KeyOf(blobId),
            // Always a range, even from 0: given a whole object whose ETag looks like an MD5 (s3rver's, some
            // others'), the SDK hashes every byte read in managed MD5, which cost a download more CPU than
            // everything else it does. The segments' AES-GCM tags already authenticate each byte.
            ByteRange = new ByteRange($"bytes={offset}-"),
        }, cancellationToken);
        return new ResponseStream(response);
    }

    public Task DeleteAsync(string blobId, CancellationToken cancellationToken) =>
        Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = KeyOf(blobId) }, cancellationToken);

    public async Task<int> RemoveLeftoversAsync(IReadOnlySet<string> referenced, CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - LeftoverAge;
        var removed = 0;
        var list = new ListObjectsV2Request { BucketName = Bucket, Prefix = _options.Prefix };
        ListObjectsV2Response page;
        do
        {
            page = await Client.ListObjectsV2Async(list, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                var blobId = item.Key[_options.Prefix.Length..];
                if (!referenced.Contains(blobId) && item.LastModified is { } modified && modified < cutoff.UtcDateTime)
                {
                    await DeleteAsync(blobId, cancellationToken);
                    removed++;
                }
            }

            list.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);

        ListMultipartUploadsResponse uploads;
        try
        {
            uploads = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = _options.Prefix },
                cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NotImplemented")
        {
            // Some S3-compatible servers (s3rver) cannot list uploads; their unfinished parts are not objects anyway.
            return removed;
        }

        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            if (upload.Initiated is { } initiated && initiated < cutoff.UtcDateTime)
            {
                await Client.AbortMultipartUploadAsync(Bucket, upload.Key, upload.UploadId, cancellationToken);
                removed++;
            }
        }

        return removed;
    }

    public void Dispose() => Client.Dispose();

    /// <summary>The object's body, disposing the response with it.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
