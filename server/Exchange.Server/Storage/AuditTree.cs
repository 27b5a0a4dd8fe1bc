using System.Data.Common;
using Exchange.Transparency;

namespace Exchange.Server.Storage;

/// <summary>
/// The right edge of the log's Merkle tree, kept in memory by the single writer: the hashes of
/// the complete subtrees that make up the current size (one per set bit), in a
/// <see cref="MerkleTreeBuilder"/>. An append hashes the leaf, merges equal-sized subtrees and
/// stores every newly completed subtree, so it costs O(1) amortized writes and no reads; proofs
/// later read those stored subtrees.
/// </summary>
internal sealed class AuditTree
{
    private MerkleTreeBuilder _tree = new();
    private long _committedSize;

    /// <summary>Leaves appended, including those of the transaction in progress.</summary>
    public long Size => _tree.Size;

    /// <summary>Leaves durably committed; readers never look past this.</summary>
    public long CommittedSize => Volatile.Read(ref _committedSize);

    /// <summary>Packs a subtree's position into one integer key: level in the top byte, index below.</summary>
    public static long NodeId(int level, long index) => ((long)level << 56) | index;

    /// <summary>Reads the right edge of the stored tree: on start, and when another replica has appended.</summary>
    public void Load(DbConnection connection, DbTransaction? transaction)
    {
        long size;
        using (var count = connection.Command("SELECT COALESCE(MAX(id) + 1, 0) FROM audit_nodes WHERE id < @level1", transaction))
        {
            count.With("@level1", NodeId(1, 0));
            size = Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        var frontier = new List<byte[]>();
        long start = 0;
        for (var level = 62; level >= 0; level--)
        {
            if ((size & (1L << level)) == 0)
            {
                continue;
            }

            using var command = connection.Command("SELECT hash FROM audit_nodes WHERE id = @id", transaction);
            command.With("@id", NodeId(level, start >> level));
            frontier.Add(command.ExecuteScalar() as byte[]
                ?? throw new InvalidOperationException($"Audit log damaged: the subtree at level {level}, leaves from {start}, is missing."));
            start += 1L << level;
        }

        _tree = MerkleTreeBuilder.Resume(size, frontier);
        Volatile.Write(ref _committedSize, size);
    }

    /// <summary>Adds a leaf hash; <paramref name="store"/> receives every subtree it completes (the leaf itself first).</summary>
    public long Append(byte[] leafHash, Action<long, byte[]> store)
    {
        var index = Size;
        _tree.AddLeafHash(leafHash, (level, position, hash) => store(NodeId(level, position), hash));
        return index;
    }

    /// <summary>The root of all appended leaves.</summary>
    public byte[] Root() => _tree.Root();

    /// <summary>A point to return to if the work after it is rolled back.</summary>
    public Mark Save() => new(Size, _tree.Clone());

    /// <summary>Forgets the appends made after <paramref name="mark"/>.</summary>
    public void Restore(Mark mark) => _tree = mark.Tree.Clone();

    /// <summary>The writer committed everything appended so far.</summary>
    public void Commit() => Volatile.Write(ref _committedSize, Size);

    internal sealed record Mark(long Size, MerkleTreeBuilder Tree);
}
