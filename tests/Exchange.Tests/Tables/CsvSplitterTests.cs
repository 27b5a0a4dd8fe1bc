using System.Text;
using Exchange.Server.Tables;
using nietras.SeparatedValues;

namespace Exchange.Tests.Tables;

/// <summary>
/// The profiler splits a CSV's bytes itself; the gateway reads delivered tables with Sep. Both must
/// see the same rows and fields, or a profile would describe a table other than the one delivered.
/// </summary>
public sealed class CsvSplitterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void It_splits_rows_and_fields_as_sep_reads_them(int seed)
    {
        var random = new Random(seed);
        string[] alphabet = ["a", "b", ",", "\"", "\"", "\n", "\r", "\r\n", "é", "😀"];
        for (var trial = 0; trial < 3000; trial++)
        {
            var csv = RandomCsv(random, alphabet, 80);
            Assert.True(Sep(csv).SequenceEqual(Split(csv)), $"seed {seed}, trial {trial}: {Show(csv)}\nSep:   {Show(Sep(csv))}\nsplit: {Show(Split(csv))}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Rows_and_their_lines_are_the_same_whatever_blocks_of_whole_rows_the_bytes_come_in(int seed)
    {
        var random = new Random(seed);
        string[] alphabet = ["a", ",", "\"", "\n", "\r", "\r\n", "é"];
        for (var trial = 0; trial < 1000; trial++)
        {
            var csv = RandomCsv(random, alphabet, 400);
            var bytes = Encoding.UTF8.GetBytes(csv);
            var (lines, cuts) = Reference(bytes);

            // As the profiler hands them over: blocks cut after a line feed that ends a row.
            var blocks = cuts.Where(_ => random.Next(3) == 0).Append(bytes.Length).Distinct().Order().ToList();
            var splitter = new CsvSplitter(keptFields: 100);
            var (rows, read, from) = (new List<string>(), new List<long>(), 0);
            foreach (var to in blocks)
            {
                var block = bytes[from..to];
                splitter.Reset(block, 0, block.Length);
                while (splitter.Next())
                {
                    rows.Add(string.Join('|', Enumerable.Range(0, splitter.Count).Select(i => Encoding.UTF8.GetString(splitter.Field(i)))));
                    read.Add(splitter.Line);
                }

                from = to;
            }

            Assert.True(Split(csv).SequenceEqual(rows), $"seed {seed}, trial {trial}: {Show(csv)}");
            Assert.True(lines.SequenceEqual(read), $"seed {seed}, trial {trial}: {Show(csv)}\nlines {string.Join(",", lines)}\nread  {string.Join(",", read)}");
        }
    }

    [Fact]
    public void A_quoted_field_keeps_commas_line_breaks_and_doubled_quotes()
    {
        var rows = Split("a,\"b,\"\"c\"\"\nd\",e\r\n\"\",f\rg");
        Assert.Equal(["a|b,\"c\"\nd|e", "|f", "g"], rows);
    }

    private static List<string> Sep(string csv)
    {
        var rows = new List<string>();
        using var reader = nietras.SeparatedValues.Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true })
            .FromText(csv);
        foreach (var row in reader)
        {
            var fields = new string[row.ColCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = row[i].ToString();
            }

            rows.Add(string.Join('|', fields));
        }

        return rows;
    }

    private static List<string> Split(string csv)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var splitter = new CsvSplitter(keptFields: 100);
        splitter.Reset(bytes, 0, bytes.Length);
        var rows = new List<string>();
        while (splitter.Next())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, splitter.Count).Select(i => Encoding.UTF8.GetString(splitter.Field(i)))));
        }

        return rows;
    }

    /// <summary>Up to <paramref name="pieces"/> pieces, a third of them from <paramref name="alphabet"/>, the rest "x"; quotes closed.</summary>
    private static string RandomCsv(Random random, string[] alphabet, int pieces)
    {
        var text = new StringBuilder();
        for (var i = random.Next(0, pieces); i > 0; i--)
        {
            text.Append(random.Next(3) == 0 ? alphabet[random.Next(alphabet.Length)] : "x");
        }

        if (text.ToString().Count(c => c == '"') % 2 != 0)
        {
            // An unclosed quote is refused by the row guard before any splitting.
            text.Append('"');
        }

        return text.ToString();
    }

    /// <summary>
    /// Each row's line read plainly (a row starts a line, and so does a line feed inside quotes), and
    /// the offsets just past a line feed ending a row, where a block of whole rows may end.
    /// </summary>
    private static (List<long> Lines, List<int> Cuts) Reference(byte[] bytes)
    {
        var (lines, cuts) = (new List<long>(), new List<int>());
        var (quoted, line, inRow, afterReturn) = (false, 1L, false, false);
        for (var at = 0; at < bytes.Length; at++)
        {
            var b = bytes[at];
            if (b == '\n' && afterReturn)
            {
                // The second half of a \r\n.
                afterReturn = false;
                cuts.Add(at + 1);
                continue;
            }

            afterReturn = false;
            if (!inRow)
            {
                inRow = true;
                lines.Add(line);
            }

            if (b == '"')
            {
                quoted = !quoted;
            }
            else if (quoted && b == '\n')
            {
                line++;
            }
            else if (!quoted && b is (byte)'\n' or (byte)'\r')
            {
                (inRow, line, afterReturn) = (false, line + 1, b == '\r');
                if (b == '\n')
                {
                    cuts.Add(at + 1);
                }
            }
        }

        return (lines, cuts);
    }

    private static string Show(string text) => text.Replace("\r", "\\r").Replace("\n", "\\n");

    private static string Show(List<string> rows) => string.Join(" / ", rows.Select(Show));
}
