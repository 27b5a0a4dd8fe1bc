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
        var csv = Csv(rows: 90_000, brokenAt: null);
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

        var small = Csv(rows: 2_000, brokenAt: null);
        var byByte = await ProfileAsync(small, _ => 1, strict: false);
        var atOnce = await ProfileAsync(small, _ => small.Length, strict: false);
        Assert.Equal(atOnce.Schema, byByte.Schema);
        Assert.Equal(atOnce.ReportAt(Uploaded), byByte.ReportAt(Uploaded));
    }

    [Fact]
    public async Task A_strict_upload_is_refused_at_the_same_row_and_line_however_the_bytes_arrive()
    {
        // The broken row lies in the third of the blocks (1 MiB of rows each) the profiler reads.
        const int broken = 47_321;
        var csv = Csv(rows: 60_000, brokenAt: broken);
        Assert.True(csv.AsSpan().IndexOf("\nx,"u8) > 2 * 1024 * 1024);
        // After the header's line, each row before it takes one line, and one more for the line break inside every fifth row's quotes.
        var line = 1 + broken + ((broken - 1) / 5);
        var expected = $"Row {broken} of the CSV (line {line}): its value in column 'id' is not a value of its declared type INT64";
        foreach (var seed in new[] { 0, 1, 2 })
        {
            var random = new Random(seed);
            var refusal = await Assert.ThrowsAsync<Refusal>(() => ProfileAsync(csv, _ => seed == 0 ? csv.Length : random.Next(1, 70_000), strict: true));
            Assert.StartsWith(expected, refusal.Message);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Rows_counted_a_column_at_a_time_give_the_profile_of_counting_them_value_by_value(int seed)
    {
        // Columns whose values drift between types (so inference drops candidates mid-column, and the
        // loops made for a settled type meet values they cannot read): whole numbers then fixed-point
        // ones, fixed-point ones then floating-point ones, fixed-point ones whose scale grows near the end (past the last value the general way takes), UTC times
        // then times with an offset. Declared
        // columns broken by some values, a describable one, quoted text, nulls, rows of the wrong width.
        var declared = new Schema
        {
            Columns =
            {
                new Column { Name = "strict", Type = ColumnType.Int64 },
                new Column { Name = "described", Describable = true },
                new Column { Name = "on", Type = ColumnType.Date, Nullable = true },
            },
        };
        string[] header = ["n", "fixed", "day", "at", "flag", "text", "strict", "described", "on", "real"];
        var random = new Random(seed);
        var rows = new List<string[]>();
        for (var i = 0; i < 6_000; i++)
        {
            var phase = i < 2_500 ? 0 : i < 4_000 ? 1 : 2;
            string[] row =
            [
                Pick(random, phase == 1 ? CultureInfo($"{random.Next(-999, 999)}.{random.Next(100):00}") : CultureInfo($"{random.Next(-100_000, 100_000)}"), "", "", "", "12x"),
                Pick(random, i < 5_900 ? CultureInfo($"{random.Next(-9_999, 9_999)}.{random.Next(10)}") : CultureInfo($"{random.Next(-9_999, 9_999)}.{random.Next(1_000):000}"), CultureInfo($"{random.Next(100)}"), "-0.5", "1e3", "99999999999999999999.5", "."),
                Pick(random, CultureInfo($"20{random.Next(10, 40)}-{random.Next(1, 13):00}-{random.Next(1, 29):00}"), "2026-02-30", "2026-12-01T10:00:00Z", ""),
                Pick(random, CultureInfo($"2026-{random.Next(1, 13):00}-{random.Next(1, 29):00}T{random.Next(24):00}:{random.Next(60):00}:00{(phase == 2 ? "+02:00" : "Z")}"), "2026-12-01", "noon"),
                Pick(random, phase == 2 ? "TRUE" : "true", "false", "1", "", "f"),
                Pick(random, "plain", "with, comma", "with \"quotes\"", "two\nlines", CultureInfo($"t{random.Next(400)}"), ""),
                Pick(random, CultureInfo($"{random.Next(1_000)}"), "", "x"),
                Pick(random, CultureInfo($"{random.Next(50)}"), CultureInfo($"{random.Next(30)}.5"), "word", ""),
                Pick(random, CultureInfo($"2025-{random.Next(1, 13):00}-{random.Next(1, 29):00}"), "", "2025-13-01"),
                Pick(random, phase == 0 ? CultureInfo($"{random.Next(100_000)}.{random.Next(1_000):000}") : CultureInfo($"{random.NextDouble():E3}"), "7", "7", "7", "NaN"),
            ];
            var width = random.Next(200) switch { 0 => 7, 1 => 12, _ => header.Length };
            rows.Add(width <= row.Length ? row[..width] : [.. row, "extra", "more"]);
        }

        var csv = new StringBuilder(string.Join(",", header)).Append('\n');
        foreach (var row in rows)
        {
            csv.Append(string.Join(",", row.Select(value => value.IndexOfAny([',', '"', '\n']) < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\""))).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(csv.ToString());
        await using var profiler = new CsvProfiler(declared, strict: false, maxColumns: 100, maxRowBytes: 1 << 20);
        for (var at = 0; at < bytes.Length;)
        {
            var take = Math.Min(bytes.Length - at, random.Next(1, 40_000));
            await profiler.WriteAsync(bytes.AsMemory(at, take), CancellationToken.None);
            at += take;
        }

        var batched = await profiler.FinishAsync();

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
        Assert.True(expected.ReportAt(Uploaded).RowsBreakingSchema > 0);
        Assert.Equal([ColumnType.Decimal, ColumnType.Decimal, ColumnType.Double], new[] { 0, 1, 9 }.Select(i => expected.Schema.Columns[i].Type));
    }

    /// <summary>Mostly the first, sometimes one of the others.</summary>
    private static string Pick(Random random, string usual, params string[] others) =>
        random.Next(10) == 0 ? others[random.Next(others.Length)] : usual;

    /// <summary>
    /// A CSV with a byte-order mark, CRLF and LF line breaks, quoted fields holding commas, doubled
    /// quotes and line breaks, empty values, text beyond ASCII, and a last row without a line break.
    /// </summary>
    private static byte[] Csv(int rows, int? brokenAt)
    {
        var text = new StringBuilder("id,note,amount,at,city\r\n");
        for (var i = 1; i <= rows; i++)
        {
            var id = i == brokenAt ? "x" : i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var note = i % 5 == 0 ? "\"a note, \"\"quoted\"\",\nover two lines\"" : i % 7 == 0 ? "" : $"plain {i % 300}";
            var at = $"2026-{1 + (i % 12):00}-{1 + (i % 28):00}T{i % 24:00}:{i % 60:00}:00Z";
            var city = i % 3 == 0 ? "Zürich" : "São Paulo";
            text.Append(CultureInfo($"{id},{note},{i % 1000}.{i % 100:00},{at},{city}"));
            if (i < rows)
            {
                text.Append(i % 2 == 0 ? "\r\n" : "\n");
            }
        }

        return [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(text.ToString())];
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    private static async Task<TableProfile> ProfileAsync(byte[] csv, Func<int, int> piece, bool strict)
    {
        var declared = strict ? new Schema { Columns = { new Column { Name = "id", Type = ColumnType.Int64 } } } : new Schema();
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
