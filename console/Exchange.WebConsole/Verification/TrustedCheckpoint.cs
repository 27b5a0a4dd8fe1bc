namespace Exchange.WebConsole.Verification;

/// <summary>A checkpoint this tab verified: signed by the pinned key and consistent with the one before it.</summary>
/// <param name="Size">The number of leaves.</param>
/// <param name="RootHash">The base64 root hash.</param>
/// <param name="LogId">The log's id, when the note names one.</param>
/// <param name="Consistency">How it was tied to the one before it.</param>
/// <param name="SeenAt">When this tab verified it.</param>
internal sealed record TrustedCheckpoint(long Size, string RootHash, string LogId, string Consistency, DateTimeOffset SeenAt);
