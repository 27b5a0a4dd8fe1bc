using System.Security.Cryptography;
using Exchange.Server.Transfers;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Benchmarks.Transfers;

/// <summary>
/// Streams a static buffer, or reads and discards: the transport's own speed. Asked to, it streams
/// a file of sealed chunks instead, each read and opened from AES-256-GCM before it is sent, as
/// the gateway reads and opens a revision's segments: the cost of keeping data encrypted alone.
/// </summary>
internal sealed class BareTransfers : BareTransferService.BareTransferServiceBase
{
    private const int TagSize = RevisionCipher.TagSize;
    private static readonly byte[] Data = new byte[16 * 1024 * 1024];
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly SemaphoreSlim Sealing = new(1, 1);

    public override async Task Download(BareDownloadRequest request, IServerStreamWriter<DownloadResponse> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(new DownloadResponse { Header = new DownloadHeader { SizeBytes = request.SizeBytes } });
        var opened = request.OpenedFrom.Length > 0;
        using var file = opened
            ? new FileStream(await SealedFileAsync(request.OpenedFrom, request.SizeBytes, request.ChunkSize), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0)
            : null;
        using var aes = opened ? new AesGcm(Key, TagSize) : null;
        var buffer = opened ? new byte[request.ChunkSize + TagSize] : Data;
        var nonce = new byte[RevisionCipher.NonceSize];
        for (long sent = 0, index = 0; sent < request.SizeBytes; sent += request.ChunkSize, index++)
        {
            var length = (int)Math.Min(request.ChunkSize, request.SizeBytes - sent);
            if (file is not null)
            {
                file.ReadExactly(buffer.AsSpan(0, length + TagSize));
                RevisionCipher.Nonce(nonce, index);
                aes!.Decrypt(nonce, buffer.AsSpan(0, length), buffer.AsSpan(length, TagSize), buffer.AsSpan(0, length));
            }

            await responseStream.WriteAsync(new DownloadResponse
            {
                Chunk = new DownloadChunk { Offset = sent, Data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, length)) },
            });
        }

        await responseStream.WriteAsync(new DownloadResponse { Trailer = new DownloadTrailer() });
    }

    /// <summary>The file of <paramref name="size"/> bytes sealed in chunks in <paramref name="directory"/>, written by the first call that asks for it.</summary>
    private static async Task<string> SealedFileAsync(string directory, long size, int chunkSize)
    {
        var path = Path.Combine(directory, $"sealed-{size}-{chunkSize}");
        await Sealing.WaitAsync();
        try
        {
            if (!File.Exists(path))
            {
                Directory.CreateDirectory(directory);
                using var aes = new AesGcm(Key, TagSize);
                var sealedChunk = new byte[chunkSize + TagSize];
                var nonce = new byte[RevisionCipher.NonceSize];
                using (var file = new FileStream(path + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
                {
                    for (long at = 0, index = 0; at < size; at += chunkSize, index++)
                    {
                        var length = (int)Math.Min(chunkSize, size - at);
                        RevisionCipher.Nonce(nonce, index);
                        aes.Encrypt(nonce, Data.AsSpan(0, length), sealedChunk.AsSpan(0, length), sealedChunk.AsSpan(length, TagSize));
                        file.Write(sealedChunk, 0, length + TagSize);
                    }
                }

                File.Move(path + ".partial", path);
            }

            return path;
        }
        finally
        {
            Sealing.Release();
        }
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
