using Exchange.V1;

namespace Exchange.Client.Transfers;

/// <summary>How <see cref="ExchangeClient.UploadAsync"/> and <see cref="ExchangeClient.UploadFileAsync"/> upload a revision.</summary>
public sealed record UploadOptions
{
    /// <summary>
    /// The revision's media type: <c>text/csv</c>, <c>application/vnd.apache.parquet</c> and
    /// <c>application/vnd.apache.arrow.stream</c> or <c>.file</c> make it a table.
    /// </summary>
    public string MediaType { get; init; } = "application/octet-stream";

    /// <summary>Receives progress reports.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>For a table: columns declared by name (a type, nullability, describable); the others are inferred.</summary>
    public Schema? Schema { get; init; }

    /// <summary>For a table: refuse the upload at the first row breaking the schema instead of counting such rows.</summary>
    public bool Strict { get; init; }
}
