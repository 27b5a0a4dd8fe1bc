namespace Exchange.Server.Transfers;

/// <summary>The <c>Exchange:Blobs</c> section: where revision bytes are kept.</summary>
internal sealed class BlobOptions
{
    /// <summary><c>local</c> (files under the data directory, the default) or <c>s3</c>.</summary>
    public string Kind { get; set; } = "local";

    public S3Options S3 { get; set; } = new();
}
