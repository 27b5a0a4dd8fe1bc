using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Benchmarks.Transfers;

/// <summary>Streams a static buffer, or reads and discards: the transport's own speed.</summary>
internal sealed class BareTransfers : BareTransferService.BareTransferServiceBase
{
    private static readonly byte[] Data = new byte[16 * 1024 * 1024];

    public override async Task Download(BareDownloadRequest request, IServerStreamWriter<DownloadResponse> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(new DownloadResponse { Header = new DownloadHeader { SizeBytes = request.SizeBytes } });
        for (long sent = 0; sent < request.SizeBytes; sent += request.ChunkSize)
        {
            var length = (int)Math.Min(request.ChunkSize, request.SizeBytes - sent);
            await responseStream.WriteAsync(new DownloadResponse
            {
                Chunk = new DownloadChunk { Offset = sent, Data = UnsafeByteOperations.UnsafeWrap(Data.AsMemory(0, length)) },
            });
        }

        await responseStream.WriteAsync(new DownloadResponse { Trailer = new DownloadTrailer() });
    }

    public override async Task<UploadResponse> Upload(IAsyncStreamReader<UploadRequest> requestStream, ServerCallContext context)
    {
        long received = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            received += requestStream.Current.Chunk.Length;
        }

        return new UploadResponse { Revision = new Revision { SizeBytes = received } };
    }
}
