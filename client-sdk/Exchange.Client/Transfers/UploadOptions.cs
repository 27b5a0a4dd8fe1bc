namespace Exchange.Client.Transfers;

/// <summary>How <see cref="ExchangeClient.UploadAsync"/> and <see cref="ExchangeClient.UploadFileAsync"/> upload a revision.</summary>
public sealed record UploadOptions
{
    /// <summary>The revision's media type.</summary>
    public string MediaType { get; init; } = "application/octet-stream";

    /// <summary>Receives progress reports.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }
}
