namespace Exchange.Client.Transfers;

/// <summary>What <see cref="ExchangeClient.DownloadToFileAsync"/> downloads, and for what.</summary>
public sealed record DownloadOptions
{
    /// <summary>The purpose of this download, one the grant allows.</summary>
    public required string Purpose { get; init; }

    /// <summary>A revision name (<c>datasets/{id}/revisions/{n}</c>), or null for the latest.</summary>
    public string? Revision { get; init; }

    /// <summary>Receives progress reports (without a total for a table encoded as it streams, whose size is known only at its end).</summary>
    public IProgress<TransferProgress>? Progress { get; init; }

    /// <summary>For a table: the format to receive it in (unspecified: its own). A resumed download keeps the format it started with.</summary>
    public V1.TableFormat Format { get; init; }
}
