using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// Decrypts a revision from an offset, one segment at a time and in place where the source's
/// bytes landed, handing out slices of it: a slice is valid until the next one is requested. A
/// download so holds a segment or two of memory, whatever the revision's size. A segment that does not authenticate, or a blob that ends early, is DATA_LOSS; wrong
/// bytes are never handed out.
/// </summary>
internal static class RevisionReader
{
    /// <summary>The blob position the source must be opened at to read from <paramref name="offset"/>: the header, or the segment holding it.</summary>
    public static long StartOf(long offset, int segmentSize) =>
        offset < segmentSize ? 0 : RevisionCipher.SegmentOffset(offset / segmentSize, segmentSize);

    /// <summary>The plaintext from <paramref name="offset"/> on, read from <paramref name="source"/>, which is opened at <see cref="StartOf"/>.</summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(IBlobSource source, byte[] dataKey, string revision, long size,
        int segmentSize, long offset, int chunkSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (StartOf(offset, segmentSize) == 0)
        {
            var header = await ReadExactlyAsync(source, RevisionCipher.HeaderSize, revision, cancellationToken);
            if (RevisionCipher.ReadHeader(header.Span) != segmentSize)
            {
                throw DataLoss(revision, "its header is damaged");
            }
        }

        using var aes = new AesGcm(dataKey, RevisionCipher.TagSize);
        var segments = RevisionCipher.SegmentCount(size, segmentSize);
        var nonce = new byte[RevisionCipher.NonceSize];
        var first = offset / segmentSize;
        for (var index = first; index < segments; index++)
        {
            var length = (int)Math.Min(segmentSize, size - (index * segmentSize));
            var sealedSegment = await ReadExactlyAsync(source, length + RevisionCipher.TagSize, revision, cancellationToken);
            RevisionCipher.Nonce(nonce, index);
            try
            {
                // In place: the plaintext replaces the ciphertext it came from.
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
                yield return sealedSegment.Slice(at, Math.Min(chunkSize, length - at));
            }
        }
    }

    private static async ValueTask<Memory<byte>> ReadExactlyAsync(IBlobSource source, int length, string revision, CancellationToken cancellationToken)
    {
        var bytes = await source.ReadAsync(length, cancellationToken);
        return bytes.Length == length ? bytes : throw DataLoss(revision, "its file is shorter than it should be");
    }

    private static RpcException DataLoss(string revision, string what) =>
        new(new Status(StatusCode.DataLoss, $"The stored bytes of {revision} are damaged ({what}); nothing more is sent."));
}
