namespace Exchange.Client.Transfers;

/// <summary>What <see cref="ExchangeClient.DownloadToFileAsync"/> downloads, and for what.</summary>
public sealed record DownloadOptions
{
    /// <summary>The purpose of this download, one the grant allows.</summary>
    public required string Purpose { get; init; }

    /// <summary>A revision name (<c>datasets/{id}/revisions/{n}</c>), or null for the latest.</summary>
    public string? Revision { get; init; }

    /// <summary>Receives progress reports.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }
}
