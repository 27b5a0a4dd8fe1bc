using System.Text;
using Exchange.Server;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

/// <summary>
/// The profiler is handed a CSV in blocks of whole rows, cut wherever the upload's chunks happen to
/// end: its profile, and where it refuses a row, must not depend on how the bytes arrived.
/// </summary>
public sealed class CsvProfilerTests
{
    private static readonly DateTimeOffset Uploaded = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_profile_is_the_same_however_the_bytes_arrive()
    {
        var csv = Csv(rows: 90_000, brokenAt: null).Bytes;
        Assert.True(csv.Length > 4 * 1024 * 1024, "the CSV spans several blocks (1 MiB of rows each)");

        var whole = await ProfileAsync(csv, _ => csv.Length, strict: false);
        Assert.Equal(90_000, whole.ReportAt(Uploaded).RowCount);
        Assert.Equal(ColumnType.Int64, whole.Schema.Columns[0].Type);
        Assert.Equal(ColumnType.Timestamp, whole.Schema.Columns[3].Type);
        Assert.Equal(0, whole.ReportAt(Uploaded).RowsBreakingSchema);
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var random = new Random(seed);
            var pieces = await ProfileAsync(csv, _ => random.Next(1, 70_000), strict: false);
            Assert.Equal(whole.Schema, pieces.Schema);
            Assert.Equal(whole.ReportAt(Uploaded), pieces.ReportAt(Uploaded));
        }

        var small = Csv(rows: 2_000, brokenAt: null).Bytes;
        var byByte = await ProfileAsync(small, _ => 1, strict: false);
        var atOnce = await ProfileAsync(small, _ => small.Length, strict: false);
        Assert.Equal(atOnce.Schema, byByte.Schema);
        Assert.Equal(atOnce.ReportAt(Uploaded), byByte.ReportAt(Uploaded));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(47_321)]
    public async Task A_strict_upload_is_refused_at_the_same_row_and_line_however_the_bytes_arrive(int broken)
    {
        // Rows are counted 256 at a time: the first and last of a batch, the first of the next, and a
        // row in the third of the blocks (1 MiB of rows each) the profiler reads.
        var csv = Csv(rows: 60_000, brokenAt: broken).Bytes;
        foreach (var seed in new[] { 0, 1, 2 })
        {
            var random = new Random(seed);
            var refusal = await Assert.ThrowsAsync<Refusal>(() => ProfileAsync(csv, _ => seed == 0 ? csv.Length : random.Next(1, 70_000), strict: true));
            Assert.StartsWith($"Row {broken} of the CSV (line {Line(broken)}): its value in column 'id' is not a value of its declared type INT64", refusal.Message);
        }
    }

    [Fact]
    public async Task A_strict_upload_is_refused_at_a_broken_row_that_ends_what_has_arrived()
    {
        // The first write ends just after the broken row and holds more than a block's 1 MiB, so the
        // row is the last of a block and of a batch left part full.
        const int broken = 24_003;
        var (csv, rowEnds) = Csv(rows: 30_000, brokenAt: broken);
        Assert.True(rowEnds[broken] > 1024 * 1024);
        var refusal = await Assert.ThrowsAsync<Refusal>(() => ProfileAsync(csv, at => at == 0 ? rowEnds[broken] : csv.Length, strict: true));
        Assert.StartsWith($"Row {broken} of the CSV (line {Line(broken)}): its value in column 'id'", refusal.Message);
    }

    [Theory]
    [InlineData(300, 310, "broken")]
    [InlineData(310, 300, "UTF-8")]
    public async Task A_strict_upload_is_refused_for_the_first_of_a_broken_row_and_a_row_of_invalid_UTF8(int broken, int invalid, string first)
    {
        var csv = Csv(rows: 1_000, brokenAt: broken, invalidAt: invalid).Bytes;
        var refusal = await Assert.ThrowsAsync<Refusal>(() => ProfileAsync(csv, _ => csv.Length, strict: true));
        Assert.StartsWith(
            first == "broken"
                ? $"Row {broken} of the CSV (line {Line(broken)}): its value in column 'id' is not a value of its declared type INT64"
                : $"Row {invalid} of the CSV (the header is row 0) is not valid UTF-8",
            refusal.Message);
    }

    [Fact]
    public async Task A_strict_upload_is_refused_at_a_row_of_the_wrong_width()
    {
        var csv = Csv(rows: 1_000, brokenAt: null, raggedAt: 500).Bytes;
        var refusal = await Assert.ThrowsAsync<Refusal>(() => ProfileAsync(csv, _ => 4_096, strict: true));
        Assert.StartsWith($"Row 500 of the CSV (line {Line(500)}) has 6 fields, not the header's 5", refusal.Message);
    }

    [Theory]
    [InlineData(1, 30_000, 0)]
    [InlineData(2, 30_000, 1)]
    [InlineData(3, 120_000, 100)]
    public async Task Rows_counted_a_column_at_a_time_give_the_profile_of_counting_them_value_by_value(int seed, int count, int lead)
    {
        // Columns whose values drift between types, so that inference drops candidates mid-column and
        // the loops made for a settled type meet values they cannot read: whole numbers then fixed-point
        // ones (n), fixed-point ones then floating-point ones (real), UTC times then times with an offset
        // (at), fixed-point numbers whose scale grows only in the last rows, past the last value the
        // general way takes (fixed). In "edge", inference's check at the 2048th value drops Int64 (114
        // of its values are not whole numbers, more than 5%), where a check missed would keep it for
        // good; after `lead` empty values, that value falls last in a batch of 256 rows, first, or
        // in the middle. Declared columns broken by some values, a describable one, quoted text,
        // nulls, rows of the wrong width, duplicate rows; 120,000 rows take the duplicate-row sketch
        // past its exact count. More than one block (1 MiB of rows each) is read.
        var declared = new Schema
        {
            Columns =
            {
                new Column { Name = "strict", Type = ColumnType.Int64 },
                new Column { Name = "described", Describable = true },
                new Column { Name = "on", Type = ColumnType.Date, Nullable = true },
            },
        };
        string[] header = ["n", "fixed", "day", "at", "flag", "text", "strict", "described", "on", "real", "edge"];
        var random = new Random(seed);
        var rows = new List<string[]>();
        var edgeValues = 0;
        for (var i = 0; i < count; i++)
        {
            var part = (double)i / count;
            var width = i < 3_000 ? header.Length : i % 197 == 0 ? 7 : i % 211 == 0 ? 13 : header.Length;
            if (i >= 3_000 && i % 10 == 9)
            {
                // A duplicate of an earlier row (its "edge" value a whole number, as every one is by then).
                var copy = rows[random.Next(3_000, rows.Count)];
                rows.Add(copy);
                edgeValues += copy.Length > 10 ? 1 : 0;
                continue;
            }

            string edge;
            if (i < lead)
            {
                edge = "";
            }
            else
            {
                edgeValues += width > 10 ? 1 : 0;
                edge = edgeValues is > 1_024 and < 2_048 && (edgeValues - 1_025) % 9 == 0 ? "1.5" : CultureInfo($"{random.Next(-1_000, 1_000)}");
            }

            string[] row =
            [
                Pick(random, 0.02, part is >= 0.4 and < 0.6 ? CultureInfo($"{random.Next(-999, 999)}.{random.Next(100):00}") : CultureInfo($"{random.Next(-100_000, 100_000)}"), "", "12x"),
                Pick(random, 0.03, i < count - 100 ? CultureInfo($"{random.Next(-9_999, 9_999)}.{random.Next(10)}") : CultureInfo($"{random.Next(-9_999, 9_999)}.{random.Next(1_000):000}"), CultureInfo($"{random.Next(100)}"), "-0.5", "1e3", "99999999999999999999.5", "."),
                Pick(random, 0.02, CultureInfo($"20{random.Next(10, 40)}-{random.Next(1, 13):00}-{random.Next(1, 29):00}"), "2026-02-30", "2026-12-01T10:00:00Z", ""),
                Pick(random, 0.02, CultureInfo($"2026-{random.Next(1, 13):00}-{random.Next(1, 29):00}T{random.Next(24):00}:{random.Next(60):00}:00{(part >= 0.8 ? "+02:00" : "Z")}"), "2026-12-01", "noon"),
                Pick(random, 0.02, random.Next(2) == 0 ? "true" : "false", "TRUE", "1", ""),
                Pick(random, 0.5, "plain", "with, comma", "with \"quotes\"", "two\nlines", CultureInfo($"t{random.Next(400)}"), ""),
                Pick(random, 0.1, CultureInfo($"{random.Next(1_000)}"), "", "x"),
                Pick(random, 0.3, CultureInfo($"{random.Next(50)}"), CultureInfo($"{random.Next(30)}.5"), "word", ""),
                Pick(random, 0.2, CultureInfo($"2025-{random.Next(1, 13):00}-{random.Next(1, 29):00}"), "", "2025-13-01"),
                Pick(random, 0.02, part < 0.5 ? CultureInfo($"{random.Next(100_000)}.{random.Next(1_000):000}") : CultureInfo($"{random.NextDouble():E3}"), "7", "NaN"),
                edge,
            ];
            rows.Add(width <= row.Length ? row[..width] : [.. row, "extra", "more"]);
        }

        // Quoted where a value needs it, and an empty value quoted in every third row (still empty).
        var csv = new StringBuilder(string.Join(",", header)).Append('\n');
        for (var i = 0; i < rows.Count; i++)
        {
            var quoteEmpty = i % 3 == 0;
            csv.Append(string.Join(",", rows[i].Select(value => value.IndexOfAny([',', '"', '\n']) < 0 && !(quoteEmpty && value.Length == 0)
                ? value
                : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\""))).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(csv.ToString());
        Assert.True(bytes.Length > 2 * 1024 * 1024, "the rows span more than one block");
        var batched = await ProfileAsync(bytes, _ => random.Next(1, 400_000), strict: false, declared);

        var byValue = new RowTally([.. header.Select(name => new ColumnProfile(declared.Columns.FirstOrDefault(c => c.Name == name) ?? new Column { Name = name }))]);
        foreach (var row in rows)
        {
            byValue.BeginRow();
            for (var column = 0; column < header.Length; column++)
            {
                byValue.Add<byte>(column, column < row.Length ? Encoding.UTF8.GetBytes(row[column]) : []);
            }

            byValue.EndRow(shaped: row.Length == header.Length);
        }

        var expected = byValue.Finish(TableFormat.Csv);
        Assert.Equal(expected.Schema, batched.Schema);
        Assert.Equal(expected.ReportAt(Uploaded), batched.ReportAt(Uploaded));
        var report = expected.ReportAt(Uploaded);
        Assert.True(report.RowsBreakingSchema > 0);
        Assert.True(report.DuplicateRowEstimate > 0);
        Assert.Equal(
            [ColumnType.Decimal, ColumnType.Decimal, ColumnType.Date, ColumnType.Timestamp, ColumnType.Bool, ColumnType.String, ColumnType.Double, ColumnType.Decimal],
            new[] { 0, 1, 2, 3, 4, 5, 9, 10 }.Select(i => expected.Schema.Columns[i].Type));
        Assert.Equal(3, expected.Schema.Columns[1].Scale);
    }

    /// <summary>The first, or at the given rate one of the others.</summary>
    private static string Pick(Random random, double rate, string usual, params string[] others) =>
        random.NextDouble() < rate ? others[random.Next(others.Length)] : usual;

    /// <summary>
    /// A CSV with a byte-order mark, CRLF and LF line breaks, quoted fields holding commas, doubled
    /// quotes and line breaks, empty values, text beyond ASCII, and a last row without a line break;
    /// and where each row ends (row 0 is the header).
    /// </summary>
    private static (byte[] Bytes, int[] RowEnds) Csv(int rows, int? brokenAt, int? invalidAt = null, int? raggedAt = null)
    {
        var bytes = new List<byte>(rows * 80);
        var rowEnds = new int[rows + 1];
        bytes.AddRange(Encoding.UTF8.Preamble);
        bytes.AddRange("id,note,amount,at,city\r\n"u8.ToArray());
        rowEnds[0] = bytes.Count;
        for (var i = 1; i <= rows; i++)
        {
            var id = i == brokenAt ? "x" : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var note = i % 5 == 0 ? "\"a note, \"\"quoted\"\",\nover two lines\"" : i % 7 == 0 ? "" : $"plain {i % 300}";
            var at = $"2026-{1 + (i % 12):00}-{1 + (i % 28):00}T{i % 24:00}:{i % 60:00}:00Z";
            var city = i % 3 == 0 ? "Zürich" : "São Paulo";
            bytes.AddRange(Encoding.UTF8.GetBytes(CultureInfo($"{id},{note},{i % 1000}.{i % 100:00},{at},")));
            if (i == invalidAt)
            {
                bytes.AddRange([0x5A, 0xFF, 0x72]);
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(i == raggedAt ? $"{city},extra" : city));
            }

            if (i < rows)
            {
                bytes.AddRange(i % 2 == 0 ? "\r\n"u8.ToArray() : "\n"u8.ToArray());
            }

            rowEnds[i] = bytes.Count;
        }

        return ([.. bytes], rowEnds);
    }

    /// <summary>The line row <paramref name="row"/> of <see cref="Csv"/> starts on: after the header's line, each row before it takes one, and every fifth one more, for the line break inside its quotes.</summary>
    private static int Line(int row) => 1 + row + ((row - 1) / 5);

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    private static async Task<TableProfile> ProfileAsync(byte[] csv, Func<int, int> piece, bool strict, Schema? declared = null)
    {
        declared ??= strict ? new Schema { Columns = { new Column { Name = "id", Type = ColumnType.Int64 } } } : new Schema();
        await using var profiler = new CsvProfiler(declared, strict, maxColumns: 100, maxRowBytes: 1 << 20);
        for (var at = 0; at < csv.Length;)
        {
            var take = Math.Min(csv.Length - at, piece(at));
            await profiler.WriteAsync(csv.AsMemory(at, take), CancellationToken.None);
            at += take;
        }

        return await profiler.FinishAsync();
    }
}
