using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

/// <summary>A describable column's inferred type and range, where its values are written in narrower forms of the type.</summary>
public sealed class ColumnProfileTests
{
    /// <summary>The profile of the values as UTF-16 text (as Parquet and Arrow give them), checked to be the same as UTF-8 (as a CSV gives them).</summary>
    private static (ColumnType Type, string Min, string Max) Profile(params string[] values)
    {
        var utf16 = new ColumnProfile(new Column { Name = "x", Describable = true });
        var utf8 = new ColumnProfile(new Column { Name = "x", Describable = true });
        foreach (var value in values)
        {
            utf16.Add(value.AsSpan(), XxHash3.HashToUInt64(MemoryMarshal.AsBytes(value.AsSpan())));
            var bytes = Encoding.UTF8.GetBytes(value);
            utf8.Add<byte>(bytes, XxHash3.HashToUInt64(bytes));
        }

        var (column, quality, _) = utf16.Finish(values.Length);
        var (column8, quality8, _) = utf8.Finish(values.Length);
        Assert.Equal(column, column8);
        Assert.Equal(quality, quality8);
        return (column.Type, quality.Min, quality.Max);
    }

    [Theory]
    [InlineData(ColumnType.Int64, "-3", "12", "5", "12", "-3")]
    [InlineData(ColumnType.Decimal, "-3", "2.5", "12", "0.25", "12.000")]
    [InlineData(ColumnType.Decimal, "-3.75", "2.5", "-3", "0.25", "1")]
    [InlineData(ColumnType.Double, "-3.5", "1e3", "7", "-12", "0.5")]
    [InlineData(ColumnType.Double, "1e-3", "2.5", "100", "2", "3")]
    public void A_range_takes_in_the_values_written_in_a_narrower_form(ColumnType type, params string[] values)
    {
        var (inferred, min, max) = Profile(values);
        Assert.Equal(type, inferred);
        var numbers = values.Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(numbers.Min(), double.Parse(min, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(numbers.Max(), double.Parse(max, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_timestamp_range_takes_in_plain_dates()
    {
        var (type, min, max) = Profile("2026-12-01T10:00:00Z", "2026-11-30", "2026-12-02", "2026-12-01T23:00:00+01:00");
        Assert.Equal(ColumnType.Timestamp, type);
        Assert.Equal(("2026-11-30T00:00:00Z", "2026-12-02T00:00:00Z"), (min, max));
    }
}
