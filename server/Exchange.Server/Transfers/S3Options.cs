namespace Exchange.Server.Transfers;

/// <summary>An S3-compatible bucket (AWS S3, MinIO, Ceph, s3rver …).</summary>
internal sealed class S3Options
{
    /// <summary>The endpoint, e.g. http://127.0.0.1:9000; empty for AWS itself (then Region applies).</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "exchange";

    /// <summary>Key prefix for revision objects.</summary>
    public string Prefix { get; set; } = "blobs/";

    /// <summary>Credentials; empty uses the SDK's default chain (environment, instance role, …).</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Path-style addressing, which most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Bytes per multipart part (at least 5 MiB).</summary>
    public int PartSize { get; set; } = 8 * 1024 * 1024;
}
