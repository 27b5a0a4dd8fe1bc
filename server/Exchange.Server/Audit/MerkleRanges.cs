using Exchange.Server.Storage;
using Exchange.Transparency;

namespace Exchange.Server.Audit;

/// <summary>
/// Hashes of leaf ranges from stored subtree hashes. A proof is a list of hashes of ranges
/// (<see cref="MerkleProofRanges"/>); each range splits into at most log n aligned complete
/// subtrees, which are stored (<see cref="AuditTree"/>), so a proof needs O(log n) node reads,
/// fetched in one query.
/// </summary>
internal static class MerkleRanges
{
    /// <summary>The stored subtrees (as node ids) that make up [start, end), left to right.</summary>
    public static IEnumerable<long> Subtrees(long start, long end)
    {
        while (start < end)
        {
            var level = 0;
            while (level < 62 && (start & ((1L << (level + 1)) - 1)) == 0 && start + (1L << (level + 1)) <= end)
            {
                level++;
            }

            yield return AuditTree.NodeId(level, start >> level);
            start += 1L << level;
        }
    }

    /// <summary>The hash of [start, end) from the hashes of its subtrees.</summary>
    public static byte[] Hash(long start, long end, IReadOnlyDictionary<long, byte[]> nodes)
    {
        return Rfc6962.FoldSubtrees(Subtrees(start, end).Select(id => nodes.TryGetValue(id, out var hash)
            ? hash
            : throw new InvalidOperationException($"Audit log damaged: stored subtree {id:x} is missing.")).ToList());
    }
}
