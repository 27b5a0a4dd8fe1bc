namespace Exchange.Client.Transfers;

/// <summary>How far an upload or download has come.</summary>
/// <param name="Bytes">Bytes done so far (for a resumed download, counting what an earlier run fetched).</param>
/// <param name="TotalBytes">The size, when known.</param>
public readonly record struct TransferProgress(long Bytes, long? TotalBytes);
