using System.Buffers;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// Reads upload messages that carry only a chunk (all but the first) of up to 1 MiB into pooled
/// buffers (see <see cref="PooledChunk"/>); anything else, the header included, goes through the
/// generated parser unchanged. The generated parser would allocate a fresh, zeroed array for every chunk,
/// which on a busy machine costs a measurable share of an upload's CPU.
/// </summary>
internal static class UploadRequestMarshaller
{
    // Field 2 (chunk), wire type 2 (length-delimited).
    private const byte ChunkTag = (2 << 3) | 2;

    public static Marshaller<UploadRequest> Create(Marshaller<UploadRequest> generated) =>
        new(generated.ContextualSerializer, Parse);

    public static UploadRequest Parse(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var reader = new SequenceReader<byte>(payload);
        if (reader.TryRead(out var tag) && tag == ChunkTag && TryReadLength(ref reader, out var length)
            && length > 0 && length <= PooledChunk.MaxPooled && length == reader.Remaining)
        {
            return new UploadRequest { Chunk = UnsafeByteOperations.UnsafeWrap(PooledChunk.CopyOf(reader.UnreadSequence).Memory) };
        }

        return UploadRequest.Parser.ParseFrom(payload);
    }

    /// <summary>A base-128 varint of at most five bytes, as protobuf writes a length.</summary>
    private static bool TryReadLength(ref SequenceReader<byte> reader, out long length)
    {
        length = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            length |= (long)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
