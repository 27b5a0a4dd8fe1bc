using System.Buffers.Binary;
using Google.Protobuf;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// A man in the middle between a client (the SDK or the CLI) and the in-process gateway: calls pass
/// through, and the response messages of the methods it was told about are rewritten and framed
/// again for gRPC. A rewritten response is read whole before it is passed on, so it must end by
/// itself (a watch, for instance, only after the gateway's maximum watch duration).
/// </summary>
internal sealed class RewritingProxy(HttpMessageHandler gateway) : DelegatingHandler(gateway)
{
    private readonly Dictionary<string, Func<byte[], byte[]>> _rewrites = new(StringComparer.Ordinal);

    /// <summary>While false, every call passes through untouched.</summary>
    public bool Active { get; set; } = true;

    /// <summary>Applies <paramref name="rewrite"/> to every message that <paramref name="method"/> (e.g. <c>exchange.v1.TransferService/Download</c>) answers.</summary>
    public RewritingProxy On<T>(string method, Action<T> rewrite) where T : IMessage<T>, new()
    {
        var parser = new MessageParser<T>(() => new T());
        _rewrites["/" + method] = bytes =>
        {
            var message = parser.ParseFrom(bytes);
            rewrite(message);
            return message.ToByteArray();
        };
        return this;
    }

    /// <summary>Nothing to release, and the proxy outlives each client that disposes it (one per CLI run).</summary>
    protected override void Dispose(bool disposing)
    {
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!Active || !_rewrites.TryGetValue(request.RequestUri!.AbsolutePath, out var rewrite))
        {
            return response;
        }

        // gRPC framing: a compressed flag, a big-endian length, the message.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var output = new MemoryStream();
        for (var offset = 0; offset < body.Length;)
        {
            Assert.Equal(0, body[offset]);
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1, 4));
            var message = rewrite(body[(offset + 5)..(offset + 5 + length)]);
            var prefix = new byte[5];
            BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), (uint)message.Length);
            output.Write(prefix);
            output.Write(message);
            offset += 5 + length;
        }

        var content = new ByteArrayContent(output.ToArray());
        foreach (var header in response.Content.Headers.Where(h => h.Key != "Content-Length"))
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        // The trailers (grpc-status) stay on the response itself, read once its body has ended.
        response.Content = content;
        return response;
    }
}
