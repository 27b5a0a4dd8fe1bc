namespace Exchange.Server.Transfers;

/// <summary>
/// A blob being written, front to back, into the sink's own buffer: the writer encrypts straight
/// into the space it is given, so sealed bytes are never copied on their way to storage.
/// Disposed without a commit, it leaves nothing behind.
/// </summary>
internal interface IBlobSink : IAsyncDisposable
{
    string BlobId { get; }

    /// <summary>Exactly <paramref name="length"/> bytes of buffer to fill next; valid until <see cref="AdvanceAsync"/>.</summary>
    ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken);

    /// <summary>Appends the <paramref name="length"/> bytes just filled in the space from <see cref="GetSpaceAsync"/>.</summary>
    ValueTask AdvanceAsync(int length, CancellationToken cancellationToken);

    /// <summary>Makes the blob durable and puts it in place under <see cref="BlobId"/>.</summary>
    Task CommitAsync(CancellationToken cancellationToken);
}
