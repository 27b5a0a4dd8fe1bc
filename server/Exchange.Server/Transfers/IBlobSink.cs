namespace Exchange.Server.Transfers;

/// <summary>A blob being written, front to back. Disposed without a commit, it leaves nothing behind.</summary>
internal interface IBlobSink : IAsyncDisposable
{
    string BlobId { get; }

    /// <summary>Appends <paramref name="data"/>; the memory may be reused once the call completes.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes the blob durable and puts it in place under <see cref="BlobId"/>.</summary>
    Task CommitAsync(CancellationToken cancellationToken);
}
