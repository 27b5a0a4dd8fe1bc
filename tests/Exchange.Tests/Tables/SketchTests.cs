using System.IO.Hashing;
using System.Text;
using Exchange.Server.Tables;

namespace Exchange.Tests.Tables;

/// <summary>The fixed-memory counts behind a quality report: distinct values and frequent values.</summary>
public sealed class SketchTests
{
    private static ulong Hash(string value) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(value));

    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    [InlineData(256)]
    [InlineData(1_000)]
    [InlineData(200_000)]
    public void Distinct_counts_are_exact_up_to_the_exact_limit_and_within_five_percent_beyond(int distinct)
    {
        var sketch = new HyperLogLog(12, exactUpTo: 256);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < distinct; i++)
            {
                sketch.Add(Hash($"value-{i}"));
            }
        }

        var estimate = sketch.Estimate();
        if (distinct <= 256)
        {
            Assert.Equal(distinct, estimate);
        }
        else
        {
            Assert.InRange(estimate, distinct * 0.95, distinct * 1.05);
        }
    }

    [Theory]
    [InlineData(257)]
    [InlineData(5_000)]
    public void Past_the_exact_limit_a_sketch_estimates_as_one_that_was_never_exact(int distinct)
    {
        // The exact phase keeps no registers; they are made from its hashes when it overflows.
        var wasExact = new HyperLogLog(12, exactUpTo: 256);
        var neverExact = new HyperLogLog(12, exactUpTo: 0);
        var values = Enumerable.Range(0, distinct).Select(i => i == 7 ? 0UL : Hash($"value-{i}")).ToList();
        foreach (var hash in values.Concat(values.AsEnumerable().Reverse()))
        {
            wasExact.Add(hash);
            neverExact.Add(hash);
        }

        Assert.Equal(neverExact.Estimate(), wasExact.Estimate());
        Assert.InRange(wasExact.Estimate(), distinct * 0.9, distinct * 1.1);
    }

    [Fact]
    public void Exact_counts_hold_for_hashes_that_share_their_low_bits_and_for_zero()
    {
        var sketch = new HyperLogLog(12, exactUpTo: 1000);
        for (var round = 0; round < 2; round++)
        {
            sketch.Add(0);
            for (var i = 1UL; i <= 300; i++)
            {
                // The same low 32 bits for all: every one probes past the others.
                sketch.Add((i << 32) | 7);
            }
        }

        Assert.Equal(301, sketch.Estimate());
    }

    [Fact]
    public void A_value_more_frequent_than_n_over_65_is_kept_with_a_count_short_by_at_most_that()
    {
        var frequent = new FrequentValues();
        var n = 0;
        for (var i = 0; i < 100_000; i++)
        {
            // "common" is 2% of the stream, "rare-*" all distinct.
            frequent.Add(i % 50 == 0 ? "common" : $"rare-{i}");
            n++;
        }

        var (value, count) = frequent.Top(1).Single();
        Assert.Equal("common", value);
        Assert.InRange(count, 2_000 - (n / (FrequentValues.Counters + 1)), 2_000);
    }
}
