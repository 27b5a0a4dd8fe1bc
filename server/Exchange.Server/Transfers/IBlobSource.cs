namespace Exchange.Server.Transfers;

/// <summary>
/// A blob read front to back from an offset, handed out as slices of the source's own buffer, so
/// the reader can decrypt in place where the bytes landed instead of copying them first.
/// </summary>
internal interface IBlobSource : IAsyncDisposable
{
    /// <summary>The next <paramref name="length"/> bytes, fewer only where the blob ends; the caller's to use (and overwrite) until the next call.</summary>
    ValueTask<Memory<byte>> ReadAsync(int length, CancellationToken cancellationToken);
}
