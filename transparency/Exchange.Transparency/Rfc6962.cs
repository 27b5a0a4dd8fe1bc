using System.Security.Cryptography;

namespace Exchange.Transparency;

/// <summary>RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.</summary>
public static class Rfc6962
{
    /// <summary>The length of every hash: 32 bytes.</summary>
    internal const int HashSize = 32;

    /// <summary>The root of the empty tree: SHA-256 of no bytes.</summary>
    internal static byte[] EmptyRoot() => SHA256.HashData([]);

    /// <summary>SHA-256(0x00 || leaf).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> leaf)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([0x00]);
        sha.AppendData(leaf);
        return sha.GetHashAndReset();
    }

    /// <summary>SHA-256(0x01 || left || right).</summary>
    internal static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * HashSize)];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>
    /// The root over consecutive complete subtrees of strictly decreasing size, left to right (the
    /// way any tree size splits by its binary digits): H(s0, H(s1, … H(sn-2, sn-1))).
    /// </summary>
    public static byte[] FoldSubtrees(IReadOnlyList<byte[]> subtrees)
    {
        ArgumentNullException.ThrowIfNull(subtrees);
        if (subtrees.Count == 0)
        {
            return EmptyRoot();
        }

        var root = subtrees[^1];
        for (var i = subtrees.Count - 2; i >= 0; i--)
        {
            root = NodeHash(subtrees[i], root);
        }

        return root;
    }

    /// <summary>The largest power of two strictly less than <paramref name="n"/> (n &gt; 1).</summary>
    internal static long SplitPoint(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2);
        return 1L << (63 - (int)long.LeadingZeroCount(n - 1));
    }
}
