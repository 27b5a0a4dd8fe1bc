namespace Exchange.Tests.Infrastructure;

/// <summary>
/// Between a client and the in-process gateway: once <paramref name="threshold"/> bytes of a
/// response of <paramref name="method"/> (e.g. <c>exchange.v1.TransferService/Download</c>) have
/// been read, runs <paramref name="action"/> once before the client reads on: to cancel, or to
/// revoke the grant, at a known point of a stream.
/// </summary>
internal sealed class StreamTap(HttpMessageHandler gateway, string method, long threshold, Func<Task> action) : DelegatingHandler(gateway)
{
    private int _fired;

    /// <summary>The proxy outlives each client that disposes it (one per CLI run).</summary>
    protected override void Dispose(bool disposing)
    {
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri!.AbsolutePath != "/" + method || Volatile.Read(ref _fired) != 0)
        {
            return response;
        }

        var original = response.Content;
        var content = new StreamContent(new Tap(await original.ReadAsStreamAsync(cancellationToken), this));
        foreach (var header in original.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = content;
        return response;
    }

    private async ValueTask ReachedAsync()
    {
        if (Interlocked.Exchange(ref _fired, 1) == 0)
        {
            await action();
        }
    }

    private sealed class Tap(Stream inner, StreamTap owner) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= owner.Threshold())
            {
                await owner.ReachedAsync();
            }

            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private long Threshold() => threshold;
}
