using System.Buffers.Binary;
using System.Text;

namespace Exchange.Server.Transfers;

/// <summary>
/// The at-rest format of a revision: a 16-byte header ("EXR1", segment size) then segments of
/// AES-256-GCM ciphertext, each followed by its 16-byte tag. Segment i uses nonce 0x00000000 ||
/// i (big-endian) under the revision's own data key, and authenticates revision name || i ||
/// last-flag, so segments cannot be moved, dropped, truncated or swapped between revisions.
/// </summary>
internal static class RevisionCipher
{
    public const int HeaderSize = 16;
    public const int TagSize = 16;
    public const int NonceSize = 12;
    private static readonly byte[] Magic = "EXR1"u8.ToArray();

    public static void WriteHeader(Span<byte> header, int segmentSize)
    {
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], segmentSize);
    }

    /// <summary>The segment size in a header, or -1 when it is not one of ours.</summary>
    public static int ReadHeader(ReadOnlySpan<byte> header) =>
        header.Length >= HeaderSize && header[..4].SequenceEqual(Magic) ? BinaryPrimitives.ReadInt32BigEndian(header[4..]) : -1;

    public static int SegmentCount(long size, int segmentSize) => size == 0 ? 1 : checked((int)((size + segmentSize - 1) / segmentSize));

    public static long SegmentOffset(long index, int segmentSize) => HeaderSize + (index * (segmentSize + (long)TagSize));

    public static void Nonce(Span<byte> nonce, long index)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], index);
    }

    public static byte[] AssociatedData(string revision, long index, bool last)
    {
        var name = Encoding.UTF8.GetBytes(revision);
        var data = new byte[name.Length + 9];
        name.CopyTo(data, 0);
        BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(name.Length), index);
        data[^1] = last ? (byte)1 : (byte)0;
        return data;
    }
}
