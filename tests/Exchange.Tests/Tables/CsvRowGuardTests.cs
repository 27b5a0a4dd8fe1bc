using Exchange.Server;
using Exchange.Server.Tables;

namespace Exchange.Tests.Tables;

/// <summary>The guard on a CSV's raw bytes: it refuses a row past the limit, and an unclosed quote, at the same row however the bytes are split.</summary>
public sealed class CsvRowGuardTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void It_refuses_the_same_row_and_ends_the_same_rows_as_a_byte_by_byte_reading_however_the_bytes_arrive(int seed)
    {
        var random = new Random(seed);
        byte[] alphabet = "ab,\"\n\n"u8.ToArray();
        for (var trial = 0; trial < 400; trial++)
        {
            var bytes = new byte[random.Next(0, 1000)];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = random.Next(4) == 0 ? alphabet[random.Next(alphabet.Length)] : (byte)'x';
            }

            // Mostly limits rows reach, sometimes none does.
            var limit = random.Next(4) == 0 ? 2000 : random.Next(1, 80);
            var rowEnds = new HashSet<int>();
            var expected = Outcome(() => Reference(bytes, limit, rowEnds));
            var guard = new CsvRowGuard(limit);
            var actual = Outcome(() =>
            {
                for (var at = 0; at < bytes.Length;)
                {
                    // Pieces from one byte to several of the guard's 64-byte steps.
                    var take = Math.Min(bytes.Length - at, random.Next(1, 300));
                    var end = guard.Scan(bytes.AsSpan(at, take));
                    var last = rowEnds.Where(rowEnd => rowEnd > at && rowEnd <= at + take).DefaultIfEmpty(-1).Max();
                    Assert.Equal(last < 0 ? -1 : last - at, end);
                    at += take;
                }

                guard.End();
            });
            Assert.True(expected == actual, $"seed {seed}, trial {trial}, limit {limit}: expected '{expected}', got '{actual}'");
        }
    }

    private static string Outcome(Action scan)
    {
        try
        {
            scan();
            return "accepted";
        }
        catch (Refusal refusal)
        {
            return refusal.Message;
        }
    }

    /// <summary>The rule read plainly: every byte counts into its row; a newline outside quotes ends it.</summary>
    private static void Reference(byte[] bytes, int limit, HashSet<int> rowEnds)
    {
        var (quoted, rowBytes, row) = (false, 0L, 0L);
        for (var at = 0; at < bytes.Length; at++)
        {
            var b = bytes[at];
            if (++rowBytes > limit)
            {
                throw Refusal.Invalid($"Row {row} of the CSV (the header is row 0) is longer than {limit} bytes, the longest row accepted; nothing was stored.");
            }

            if (b == '"')
            {
                quoted = !quoted;
            }
            else if (b == '\n' && !quoted)
            {
                (row, rowBytes) = (row + 1, 0);
                rowEnds.Add(at + 1);
            }
        }

        if (quoted)
        {
            throw Refusal.Invalid($"Row {row} of the CSV (the header is row 0) opens a quoted field that is never closed; nothing was stored.");
        }
    }
}
