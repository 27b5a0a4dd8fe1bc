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

    [Theory]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("0001-01-01T00:59:59.9999999+01:00")]
    [InlineData("0001-01-01T01:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    [InlineData("9999-12-31T23:00:00-01:00")]
    [InlineData("9999-12-31T22:59:59-01:00")]
    [InlineData("2024-02-29T12:00:00+14:00")]
    [InlineData("2024-02-29T12:00:00+14:01")]
    [InlineData("2024-02-29T12:00:00-14:00")]
    [InlineData("2023-02-29T12:00:00Z")]
    [InlineData("2026-12-01 08:30:00.1234567+05:45")]
    [InlineData("2026-12-01")]
    public void A_timestamp_s_instant_read_as_ticks_is_the_instant_read_as_a_date_and_time(string text)
    {
        AssertSameInstant(text);
    }

    [Fact]
    public void Random_timestamps_read_as_ticks_give_the_same_instants_as_read_as_dates_and_times()
    {
        var random = new Random(17);
        for (var i = 0; i < 20_000; i++)
        {
            var year = random.Next(5) == 0 ? random.Next(1, 3) * (random.Next(2) == 0 ? 1 : 9999) : random.Next(1, 10_000);
            var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{Math.Min(year, 9999):0000}-{random.Next(1, 13):00}-{random.Next(1, 32):00}T{random.Next(0, 25):00}:{random.Next(0, 60):00}:{random.Next(0, 61):00}");
            text += random.Next(3) switch
            {
                0 => "." + random.Next(0, 10_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
            text += random.Next(3) switch
            {
                0 => "Z",
                1 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(random.Next(2) == 0 ? '+' : '-')}{random.Next(0, 16):00}:{random.Next(0, 60):00}"),
                _ => "",
            };
            AssertSameInstant(text);
        }
    }

    [Fact]
    public void A_date_is_read_only_when_it_is_a_real_day()
    {
        foreach (var year in new[] { 1, 1900, 2000, 2023, 2024, 9999 })
        {
            for (var month = 0; month <= 13; month++)
            {
                for (var day = 0; day <= 32; day++)
                {
                    var text = $"{year:0000}-{month:00}-{day:00}";
                    var real = DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var expected);
                    Assert.Equal(real, ColumnValues.TryDate<byte>(System.Text.Encoding.UTF8.GetBytes(text), out var date));
                    Assert.Equal(real ? expected : default, date);
                }
            }
        }
    }

    [Fact]
    public void Day_numbers_count_days_as_dates_do()
    {
        for (var day = DateOnly.MinValue.DayNumber; day <= DateOnly.MaxValue.DayNumber; day++)
        {
            var date = DateOnly.FromDayNumber(day);
            Assert.Equal(day, ColumnValues.DayNumber(date.Year, date.Month, date.Day));
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.00")]
    [InlineData("12.50")]
    [InlineData("-123456789012345678")]
    [InlineData("123456789.012345678")]
    [InlineData("1234567890123456789")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData(".")]
    [InlineData("-")]
    [InlineData("1e3")]
    [InlineData("+1")]
    [InlineData("1.2.3")]
    public void A_fixed_point_number_read_scaled_is_the_decimal_it_reads_as(string text)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        if (ColumnValues.TryFixedPoint<byte>(utf8, out var scaled, out var scale))
        {
            Assert.True(ColumnValues.TryDecimal(text, out var value));
            Assert.Equal(value, scaled / (decimal)Math.Pow(10, scale));
            Assert.Equal(value.Scale, scale);
        }
        else
        {
            // Only the longest numbers are left to the general reading.
            Assert.True(!ColumnValues.TryDecimal(text, out _) || text.Count(char.IsAsciiDigit) > 18, text);
        }
    }

    private static void AssertSameInstant(string text)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        var read = ColumnValues.TryTimestamp<byte>(utf8, out var time);
        Assert.Equal(read, ColumnValues.TryTimestampTicks<byte>(utf8, out var ticks));
        if (read)
        {
            Assert.Equal(time.UtcTicks, ticks);
        }
    }
}
