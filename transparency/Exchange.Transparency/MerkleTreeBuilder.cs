namespace Exchange.Transparency;

/// <summary>
/// Computes the RFC 6962 root of a growing list of leaves in O(log n) memory: it keeps only the
/// hashes of the complete subtrees along the right edge (a "compact range").
/// </summary>
public sealed class MerkleTreeBuilder
{
    private readonly List<byte[]> _frontier = [];

    /// <summary>How many leaves were added.</summary>
    public long Size { get; private set; }

    /// <summary>Adds a leaf by its raw bytes.</summary>
    public void AddLeaf(ReadOnlySpan<byte> leaf) => AddLeafHash(Rfc6962.LeafHash(leaf));

    /// <summary>Adds a leaf by its hash.</summary>
    public void AddLeafHash(byte[] leafHash)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        var current = leafHash;
        for (var index = Size; (index & 1) == 1; index >>= 1)
        {
            current = Rfc6962.NodeHash(_frontier[^1], current);
            _frontier.RemoveAt(_frontier.Count - 1);
        }

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
