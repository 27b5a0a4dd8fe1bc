using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// Decrypts a revision from an offset, one segment at a time and in place, handing out slices of
/// one buffer: a slice is valid until the next one is requested. A download so holds one
/// segment of memory, whatever the revision's size. A segment that does not authenticate, or a
/// file that ends early, is DATA_LOSS; wrong bytes are never handed out.
/// </summary>
internal static class RevisionReader
{
    /// <summary>The stream position the blob must be opened at to read from <paramref name="offset"/>: the header, or the segment holding it.</summary>
    public static long StartOf(long offset, int segmentSize) =>
        offset < segmentSize ? 0 : RevisionCipher.SegmentOffset(offset / segmentSize, segmentSize);

    /// <summary>The plaintext from <paramref name="offset"/> on, read from <paramref name="file"/>, which is opened at <see cref="StartOf"/>.</summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(Stream file, byte[] dataKey, string revision, long size,
        int segmentSize, long offset, int chunkSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (StartOf(offset, segmentSize) == 0)
        {
            var header = new byte[RevisionCipher.HeaderSize];
            await ReadExactlyAsync(file, header, revision, cancellationToken);
            if (RevisionCipher.ReadHeader(header) != segmentSize)
            {
                throw DataLoss(revision, "its header is damaged");
            }
        }

        using var aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        var segments = RevisionCipher.SegmentCount(size, segmentSize);
        var buffer = new byte[segmentSize + RevisionCipher.TagSize];
        var nonce = new byte[RevisionCipher.NonceSize];
        var first = offset / segmentSize;
        for (var index = first; index < segments; index++)
        {
            var length = (int)Math.Min(segmentSize, size - (index * segmentSize));
            var sealedSegment = buffer.AsMemory(0, length + RevisionCipher.TagSize);
            await ReadExactlyAsync(file, sealedSegment, revision, cancellationToken);
            RevisionCipher.Nonce(nonce, index);
            try
            {
                // In place: the plaintext replaces the ciphertext it came from, so a download holds one segment.
                aes.Decrypt(nonce, sealedSegment.Span[..length], sealedSegment.Span[length..], sealedSegment.Span[..length],
                    RevisionCipher.AssociatedData(revision, index, index == segments - 1));
            }
            catch (AuthenticationTagMismatchException)
            {
                // Decrypt has cleared the output already: nothing unauthenticated is left to hand out.
                throw DataLoss(revision, $"segment {index} does not authenticate");
            }

            var start = index == first ? (int)(offset - (index * segmentSize)) : 0;
            for (var at = start; at < length; at += chunkSize)
            {
                yield return buffer.AsMemory(at, Math.Min(chunkSize, length - at));
            }
        }
    }

    private static async ValueTask ReadExactlyAsync(Stream file, Memory<byte> buffer, string revision, CancellationToken cancellationToken)
    {
        try
        {
            if (file is FileStream && !OperatingSystem.IsWindows())
            {
                // A local blob is read on this thread. On Linux (and macOS) an asynchronous file read is this
                // same read on another pool thread: the two hand-overs per segment cost a download more CPU
                // than the read itself (mostly a copy from the page cache), and block a thread all the same.
                // Windows reads a file asynchronously for real.
                cancellationToken.ThrowIfCancellationRequested();
                file.ReadExactly(buffer.Span);
            }
            else
            {
                await file.ReadExactlyAsync(buffer, cancellationToken);
            }
        }
        catch (EndOfStreamException)
        {
            throw DataLoss(revision, "its file is shorter than it should be");
        }
    }

    internal static RpcException DataLoss(string revision, string what) =>
        new(new Status(StatusCode.DataLoss, $"The stored bytes of {revision} are damaged ({what}); nothing more is sent."));
}
