using System.Numerics;

namespace Exchange.Transparency;

/// <summary>
/// Computes the RFC 6962 root of a growing list of leaves in O(log n) memory: it keeps only the
/// hashes of the complete subtrees along the right edge (a "compact range").
/// </summary>
public sealed class MerkleTreeBuilder
{
    private readonly List<byte[]> _frontier;

    /// <summary>An empty tree.</summary>
    public MerkleTreeBuilder()
        : this(0, [])
    {
    }

    private MerkleTreeBuilder(long size, List<byte[]> frontier)
    {
        Size = size;
        _frontier = frontier;
    }

    /// <summary>How many leaves were added.</summary>
    public long Size { get; private set; }

    /// <summary>
    /// Continues a tree of <paramref name="size"/> leaves from its right edge: the hashes of its
    /// complete subtrees, largest (leftmost) first, one for each bit set in <paramref name="size"/>.
    /// </summary>
    public static MerkleTreeBuilder Resume(long size, IEnumerable<byte[]> frontier)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(frontier);
        var hashes = frontier.ToList();
        if (hashes.Count != BitOperations.PopCount((ulong)size) || hashes.Any(h => h is null))
        {
            throw new ArgumentException($"A tree of {size} leaves has {BitOperations.PopCount((ulong)size)} complete subtrees on its right edge.",
                nameof(frontier));
        }

        return new MerkleTreeBuilder(size, hashes);
    }

    /// <summary>An independent copy: adding leaves to one does not change the other.</summary>
    public MerkleTreeBuilder Clone() => new(Size, [.. _frontier]);

    /// <summary>Adds a leaf by its raw bytes.</summary>
    internal void AddLeaf(ReadOnlySpan<byte> leaf) => AddLeafHash(Rfc6962.LeafHash(leaf));

    /// <summary>
    /// Adds a leaf by its hash. <paramref name="completed"/>, when given, receives every complete
    /// subtree the leaf finishes, the leaf itself first, as (level, index, hash): the subtree at
    /// level l and index i covers leaves [i·2^l, (i+1)·2^l). If it throws, the tree is unchanged.
    /// </summary>
    public void AddLeafHash(byte[] leafHash, Action<int, long, byte[]>? completed = null)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        var current = leafHash;
        completed?.Invoke(0, Size, current);
        var level = 0;
        for (var position = Size; (position & 1) == 1; position >>= 1)
        {
            level++;
            current = Rfc6962.NodeHash(_frontier[^level], current);
            completed?.Invoke(level, position >> 1, current);
        }

        _frontier.RemoveRange(_frontier.Count - level, level);
        _frontier.Add(current);
        Size++;
    }

    /// <summary>The root hash of the leaves added so far.</summary>
    public byte[] Root() => Rfc6962.FoldSubtrees(_frontier);

    /// <summary>The root hash of <paramref name="leafHashes"/>.</summary>
    public static byte[] RootOf(IEnumerable<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        var builder = new MerkleTreeBuilder();
        foreach (var hash in leafHashes)
        {
            builder.AddLeafHash(hash);
        }

        return builder.Root();
    }
}
