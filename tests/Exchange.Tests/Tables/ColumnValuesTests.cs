using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

public sealed class ColumnValuesTests
{
    [Theory]
    [InlineData("0", ColumnType.Int64, true)]
    [InlineData("-42", ColumnType.Int64, true)]
    [InlineData("007", ColumnType.Int64, false)]
    [InlineData("-07", ColumnType.Int64, false)]
    [InlineData("9223372036854775808", ColumnType.Int64, false)]
    [InlineData("1.5", ColumnType.Int64, false)]
    [InlineData("12.50", ColumnType.Decimal, true)]
    [InlineData("-0.1", ColumnType.Decimal, true)]
    [InlineData("1e3", ColumnType.Decimal, false)]
    [InlineData("1,5", ColumnType.Decimal, false)]
    [InlineData("6.02e23", ColumnType.Double, true)]
    [InlineData("NaN", ColumnType.Double, true)]
    [InlineData(" 1", ColumnType.Double, false)]
    [InlineData("TRUE", ColumnType.Bool, true)]
    [InlineData("false", ColumnType.Bool, true)]
    [InlineData("yes", ColumnType.Bool, false)]
    [InlineData("2026-12-01", ColumnType.Date, true)]
    [InlineData("2026-02-30", ColumnType.Date, false)]
    [InlineData("01/12/2026", ColumnType.Date, false)]
    [InlineData("2026-12-01T08:30:00Z", ColumnType.Timestamp, true)]
    [InlineData("2026-12-01 08:30:00.123+01:00", ColumnType.Timestamp, true)]
    [InlineData("2026-12-01T08:30", ColumnType.Timestamp, true)]
    [InlineData("2026-12-01", ColumnType.Timestamp, true)]
    [InlineData("2026-12-01T25:00:00", ColumnType.Timestamp, false)]
    [InlineData("anything", ColumnType.String, true)]
    public void A_value_is_of_a_type_only_in_that_type_s_one_written_form(string text, ColumnType type, bool expected)
    {
        Assert.Equal(expected, ColumnValues.Is(type, text));
        // The same rule over UTF-8, as a CSV upload is profiled.
        var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        var parsed = type switch
        {
            ColumnType.Int64 => ColumnValues.TryInt64<byte>(utf8, out _),
            ColumnType.Decimal => ColumnValues.TryDecimal<byte>(utf8, out _),
            ColumnType.Double => ColumnValues.TryDouble<byte>(utf8, out _),
            ColumnType.Bool => ColumnValues.TryBool<byte>(utf8, out _),
            ColumnType.Date => ColumnValues.TryDate<byte>(utf8, out _),
            ColumnType.Timestamp => ColumnValues.TryTimestamp<byte>(utf8, out _),
            _ => true,
        };
        Assert.Equal(expected, parsed);
    }

    [Fact]
    public void A_timestamp_without_an_offset_is_utc()
    {
        Assert.True(ColumnValues.TryTimestamp("2026-12-01T08:30:00", out var time));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero), time);
        Assert.True(ColumnValues.TryTimestamp("2026-12-01T08:30:00+02:00", out time));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 6, 30, 0, TimeSpan.Zero), time.ToUniversalTime());
    }
}
