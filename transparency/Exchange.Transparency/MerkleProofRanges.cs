namespace Exchange.Transparency;

/// <summary>
/// Which leaf ranges [start, end) the hashes of an RFC 9162 proof cover, in proof order. Servers
/// build proofs from them; verifiers use them to tell which part of a log a proof vouches for.
/// </summary>
public static class MerkleProofRanges
{
    /// <summary>The ranges whose hashes form the inclusion proof of leaf <paramref name="index"/> in a tree of <paramref name="size"/> (RFC 9162 2.1.3.1).</summary>
    public static IReadOnlyList<(long Start, long End)> Inclusion(long index, long size)
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
    public static IReadOnlyList<(long Start, long End)> Consistency(long first, long second)
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
}
