namespace Exchange.Server.Transfers;

/// <summary>A blob source over a stream (an S3 object, or a file where direct reads are not available), read into one buffer.</summary>
internal sealed class StreamBlobSource(Stream stream, int maxRead) : IBlobSource
{
    private readonly byte[] _buffer = new byte[maxRead];

    public async ValueTask<Memory<byte>> ReadAsync(int length, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAtLeastAsync(_buffer.AsMemory(0, length), length, throwOnEndOfStream: false, cancellationToken);
        return _buffer.AsMemory(0, read);
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
