using Exchange.Client.Audit;

namespace Exchange.Server.Audit;

/// <summary>
/// RFC 9162 proofs built from stored subtree hashes. A proof is a list of hashes of leaf ranges
/// [start, end); each range splits into at most log n aligned complete subtrees, which are stored
/// (<see cref="AuditTree"/>), so a proof needs O(log n) node reads, fetched in one query.
/// </summary>
internal static class MerkleRanges
{
    /// <summary>The ranges whose hashes form the inclusion proof of leaf <paramref name="index"/> in a tree of <paramref name="size"/> (RFC 9162 2.1.3.1).</summary>
    public static List<(long Start, long End)> InclusionPath(long index, long size)
    {
        var ranges = new List<(long, long)>();
        Path(index, 0, size, ranges);
        return ranges;

        static void Path(long m, long start, long end, List<(long, long)> into)
        {
            var n = end - start;
            if (n <= 1)
            {
                return;
            }

            var k = Rfc6962.SplitPoint(n);
            if (m - start < k)
            {
                Path(m, start, start + k, into);
                into.Add((start + k, end));
            }
            else
            {
                Path(m, start + k, end, into);
                into.Add((start, start + k));
            }
        }
    }

    /// <summary>The ranges whose hashes form the consistency proof from <paramref name="first"/> to <paramref name="second"/> leaves (RFC 9162 2.1.4.1).</summary>
    public static List<(long Start, long End)> ConsistencyPath(long first, long second)
    {
        var ranges = new List<(long, long)>();
        if (first > 0 && first < second)
        {
            SubProof(first, 0, second, true, ranges);
        }

        return ranges;

        static void SubProof(long m, long start, long end, bool complete, List<(long, long)> into)
        {
            var n = end - start;
            if (m == n)
            {
                if (!complete)
                {
                    into.Add((start, end));
                }

                return;
            }

            var k = Rfc6962.SplitPoint(n);
            if (m <= k)
            {
                SubProof(m, start, start + k, complete, into);
                into.Add((start + k, end));
            }
            else
            {
                SubProof(m - k, start + k, end, false, into);
                into.Add((start, start + k));
            }
        }
    }

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
        if (start == end)
        {
            return Rfc6962.EmptyRoot();
        }

        var parts = Subtrees(start, end).Select(id => nodes.TryGetValue(id, out var hash)
            ? hash
            : throw new InvalidOperationException($"Audit log damaged: stored subtree {id:x} is missing.")).ToList();
        var root = parts[^1];
        for (var i = parts.Count - 2; i >= 0; i--)
        {
            root = Rfc6962.NodeHash(parts[i], root);
        }

        return root;
    }
}
