using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

/// <summary>What each mask makes of a value, and that null stays null.</summary>
public sealed class ColumnMaskTests
{
    private static readonly byte[] Key = new byte[32];

    private static string Apply(Mask mask, ColumnType type, string value) => new ColumnMask(mask, type, Key).Apply(value).ToString();

    [Theory]
    [InlineData(ColumnType.Int64, "10", "57", "50")]
    [InlineData(ColumnType.Int64, "10", "-3", "-10")]
    [InlineData(ColumnType.Int64, "10", "-10", "-10")]
    [InlineData(ColumnType.Decimal, "0.5", "12.74", "12.5")]
    [InlineData(ColumnType.Decimal, "10000", "52000.50", "50000")]
    [InlineData(ColumnType.Double, "2.5", "-0.1", "-2.5")]
    [InlineData(ColumnType.Int64, "10", "n/a", "")]
    [InlineData(ColumnType.Int64, "10", "-9223372036854775807", "")]
    [InlineData(ColumnType.Double, "0.1", "0.3", "0.3")]
    [InlineData(ColumnType.Double, "1", "-0.0", "0")]
    [InlineData(ColumnType.Decimal, "0.5", "79228162514264337593543950335", "")]
    public void Bucket_takes_a_number_down_to_the_start_of_its_bucket(ColumnType type, string width, string value, string expected) =>
        Assert.Equal(expected, Apply(new Mask { Kind = MaskKind.Bucket, Width = width }, type, value));

    [Theory]
    [InlineData(ColumnType.Date, DateUnit.Month, "2026-12-24", "2026-12-01")]
    [InlineData(ColumnType.Date, DateUnit.Year, "2026-12-24", "2026-01-01")]
    [InlineData(ColumnType.Timestamp, DateUnit.Month, "2026-12-24T23:30:00-02:00", "2026-12-01T00:00:00Z")]
    [InlineData(ColumnType.Timestamp, DateUnit.Year, "2026-12-31T23:30:00-02:00", "2027-01-01T00:00:00Z")]
    [InlineData(ColumnType.Date, DateUnit.Year, "soon", "")]
    public void Generalise_takes_a_date_or_time_to_the_start_of_its_month_or_year(ColumnType type, DateUnit unit, string value, string expected) =>
        Assert.Equal(expected, Apply(new Mask { Kind = MaskKind.Generalise, Unit = unit }, type, value));

    [Fact]
    public void Truncate_counts_characters_and_never_splits_a_surrogate_pair()
    {
        var truncate = new Mask { Kind = MaskKind.Truncate, Length = 2 };
        Assert.Equal("Tr", Apply(truncate, ColumnType.String, "Tromsø"));
        Assert.Equal("a😀", Apply(truncate, ColumnType.String, "a😀b"));
        Assert.Equal("x", Apply(truncate, ColumnType.String, "x"));
    }

    [Fact]
    public void Hash_is_an_hmac_under_the_grant_s_key_and_redact_and_nulls_give_null()
    {
        var hash = new Mask { Kind = MaskKind.Hash };
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Key, "ann@example.no"u8));
        Assert.Equal(expected, Apply(hash, ColumnType.String, "ann@example.no"));
        Assert.NotEqual(expected, new ColumnMask(hash, ColumnType.String, [.. Enumerable.Repeat((byte)1, 32)]).Apply("ann@example.no").ToString());
        Assert.Equal("", Apply(hash, ColumnType.String, ""));
        Assert.Equal("", Apply(new Mask { Kind = MaskKind.Redact }, ColumnType.Int64, "42"));
        Assert.Equal(ColumnType.String, new ColumnMask(hash, ColumnType.Int64, Key).OutputType);
    }

    [Fact]
    public void A_block_of_rows_is_masked_as_each_value_would_be_alone()
    {
        Column[] columns =
        [
            new() { Name = "email", Type = ColumnType.String },
            new() { Name = "day", Type = ColumnType.Date },
            new() { Name = "note", Type = ColumnType.String },
        ];
        var view = new View
        {
            Masks =
            {
                new Mask { Column = "email", Kind = MaskKind.Hash },
                new Mask { Column = "day", Kind = MaskKind.Generalise, Unit = DateUnit.Year },
                new Mask { Column = "note", Kind = MaskKind.Truncate, Length = 3 },
            },
        };
        var rows = Enumerable.Range(0, 50).Select(i => new[]
        {
            i % 7 == 0 ? "" : $"person{i}@example.org" + new string('x', i * 3),
            i % 5 == 0 ? "" : $"20{i % 100:00}-0{1 + (i % 9)}-1{i % 10}",
            $"note {i} ø😀",
        }).ToList();
        var csv = "email,day,note\n" + string.Concat(rows.Select(r => string.Join(',', r.Select(v => v.Length == 0 ? "" : '"' + v + '"')) + "\n"));

        var plan = new ViewPlan(view, columns, Key);
        var block = new RowBlock(columns.Length);
        using (var reader = TableFormats.Reader(TableFormat.Csv, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), columns))
        {
            while (reader.Read())
            {
                block.Add(reader, plan);
            }
        }

        var masks = plan.NewMasks();
        block.Mask(masks);
        ColumnMask.DisposeAll(masks);

        Assert.Equal(rows.Count, block.Count);
        for (var row = 0; row < rows.Count; row++)
        {
            for (var column = 0; column < columns.Length; column++)
            {
                Assert.Equal(Apply(view.Masks[column], columns[column].Type, rows[row][column]), block[row, column].ToString());
            }
        }

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Key, "person1@example.orgxxx"u8)), block[1, 0].ToString());
    }
}
