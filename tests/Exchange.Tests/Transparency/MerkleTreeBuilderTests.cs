using Exchange.Transparency;

namespace Exchange.Tests.Transparency;

/// <summary>The compact-range builder the gateway appends to and verifiers fold leaves with: its subtrees, resuming and copying.</summary>
public sealed class MerkleTreeBuilderTests
{
    private static byte[] Leaf(long i) => Rfc6962.LeafHash(BitConverter.GetBytes(i));

    [Fact]
    public void Every_reported_subtree_hashes_the_leaves_it_covers_and_a_resumed_tree_continues_with_the_same_roots()
    {
        var leaves = Enumerable.Range(0, 70).Select(i => Leaf(i)).ToList();
        var subtrees = new Dictionary<(int Level, long Index), byte[]>();
        var builder = new MerkleTreeBuilder();
        foreach (var leaf in leaves)
        {
            builder.AddLeafHash(leaf, (level, index, hash) => subtrees.Add((level, index), hash));
            Assert.Equal(MerkleTreeBuilder.RootOf(leaves.Take((int)builder.Size)), builder.Root());
        }

        foreach (var ((level, index), hash) in subtrees)
        {
            Assert.Equal(MerkleTreeBuilder.RootOf(leaves.Skip((int)(index << level)).Take(1 << level)), hash);
        }

        for (var size = 0; size <= leaves.Count; size++)
        {
            // The right edge of a tree of `size` leaves, from the stored subtrees, as the gateway reloads it.
            var frontier = new List<byte[]>();
            long start = 0;
            for (var level = 62; level >= 0; level--)
            {
                if ((size & (1L << level)) != 0)
                {
                    frontier.Add(subtrees[(level, start >> level)]);
                    start += 1L << level;
                }
            }

            var resumed = MerkleTreeBuilder.Resume(size, frontier);
            Assert.Equal(MerkleTreeBuilder.RootOf(leaves.Take(size)), resumed.Root());
            foreach (var leaf in leaves.Skip(size))
            {
                resumed.AddLeafHash(leaf);
            }

            Assert.Equal(builder.Root(), resumed.Root());
        }
    }

    [Fact]
    public void A_clone_is_independent_and_a_throwing_callback_leaves_the_tree_unchanged()
    {
        var builder = new MerkleTreeBuilder();
        for (var i = 0; i < 7; i++)
        {
            builder.AddLeafHash(Leaf(i));
        }

        var before = builder.Root();
        var clone = builder.Clone();
        clone.AddLeafHash(Leaf(7));
        Assert.Equal(7, builder.Size);
        Assert.Equal(before, builder.Root());

        // Leaf 7 completes subtrees at levels 0 to 3; a failure to store the third leaves no trace.
        Assert.Throws<InvalidOperationException>(() =>
            builder.AddLeafHash(Leaf(7), (level, _, _) => { if (level == 2) { throw new InvalidOperationException(); } }));
        Assert.Equal(7, builder.Size);
        Assert.Equal(before, builder.Root());
        builder.AddLeafHash(Leaf(7));
        Assert.Equal(clone.Root(), builder.Root());
    }

    [Fact]
    public void Resume_refuses_a_right_edge_of_the_wrong_length()
    {
        Assert.Throws<ArgumentException>(() => MerkleTreeBuilder.Resume(3, [new byte[32]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTreeBuilder.Resume(-1, []));
        Assert.Equal(Rfc6962.EmptyRoot(), MerkleTreeBuilder.Resume(0, []).Root());
    }
}
