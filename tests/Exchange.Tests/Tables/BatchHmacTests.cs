using System.Security.Cryptography;
using Exchange.Server.Tables;

namespace Exchange.Tests.Tables;

/// <summary>The hash mask's HMACs, computed eight at a time, are the platform library's bit for bit.</summary>
public sealed class BatchHmacTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_mac_equals_the_library_s_for_random_keys_and_values_of_every_length(int seed)
    {
        var random = new Random(seed);
        for (var trial = 0; trial < 300; trial++)
        {
            // Keys shorter than, as long as and longer than SHA-256's block; values around the one-block limit and far past it.
            var key = new byte[random.Next(0, 140)];
            random.NextBytes(key);
            var lengths = Enumerable.Range(0, random.Next(0, 30))
                .Select(_ => random.Next(3) == 0 ? random.Next(0, 200) : random.Next(0, BatchHmac.MaxShort + 2))
                .ToArray();
            var starts = new int[lengths.Length];
            for (var i = 1; i < starts.Length; i++)
            {
                starts[i] = starts[i - 1] + lengths[i - 1];
            }

            var data = new byte[lengths.Sum()];
            random.NextBytes(data);
            var macs = new byte[32 * lengths.Length];
            using (var hmac = new BatchHmac(key))
            {
                hmac.Compute(data, starts, lengths, macs);
            }

            for (var i = 0; i < lengths.Length; i++)
            {
                var expected = HMACSHA256.HashData(key, data.AsSpan(starts[i], lengths[i]));
                Assert.True(expected.AsSpan().SequenceEqual(macs.AsSpan(32 * i, 32)),
                    $"seed {seed}, trial {trial}: value {i} of {lengths.Length} ({lengths[i]} bytes, key {key.Length} bytes) differs");
            }
        }
    }

    [Fact]
    public void Edge_lengths_around_one_block_match_the_library()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        int[] lengths = [0, 1, 54, 55, 56, 63, 64, 65, 119, 120];
        var starts = new int[lengths.Length];
        for (var i = 1; i < starts.Length; i++)
        {
            starts[i] = starts[i - 1] + lengths[i - 1];
        }

        var data = RandomNumberGenerator.GetBytes(lengths.Sum());
        var macs = new byte[32 * lengths.Length];
        using var hmac = new BatchHmac(key);
        hmac.Compute(data, starts, lengths, macs);
        for (var i = 0; i < lengths.Length; i++)
        {
            Assert.Equal(Convert.ToHexString(HMACSHA256.HashData(key, data.AsSpan(starts[i], lengths[i]))), Convert.ToHexString(macs, 32 * i, 32));
        }
    }
}
