namespace Exchange.Server.Transfers;

/// <summary>
/// Where encrypted revision bytes live: files under the data directory, or an S3-compatible
/// bucket. A blob is written through a sink and becomes reachable only when committed; what an
/// interrupted upload leaves behind is removed on start.
/// </summary>
internal interface IBlobStore
{
    /// <summary>Starts a new blob; nothing of it is in place until its sink commits.</summary>
    Task<IBlobSink> CreateAsync(CancellationToken cancellationToken);

    /// <summary>The blob's bytes from <paramref name="offset"/> to its end.</summary>
    Task<Stream> OpenReadAsync(string blobId, long offset, CancellationToken cancellationToken);

    Task DeleteAsync(string blobId, CancellationToken cancellationToken);

    /// <summary>Removes every blob not in <paramref name="referenced"/> and every unfinished write.</summary>
    Task<int> RemoveLeftoversAsync(IReadOnlySet<string> referenced, CancellationToken cancellationToken);
}
