using System.Globalization;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// How a value written as text is read as each column type: one set of rules for profiling,
/// declared schemas and everything later built on a table's values.
/// </summary>
internal static class ColumnValues
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd' 'HH:mmK",
    ];

    /// <summary>A whole number; leading zeros make it a code, not a number ("007" stays text).</summary>
    public static bool TryInt64(ReadOnlySpan<char> text, out long value)
    {
        var digits = text.Length > 0 && text[0] == '-' ? text[1..] : text;
        if (digits.Length > 1 && digits[0] == '0')
        {
            value = 0;
            return false;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A fixed-point number: digits with at most one decimal point, no exponent.</summary>
    public static bool TryDecimal(ReadOnlySpan<char> text, out decimal value) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    public static bool TryDouble(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out value);

    public static bool TryBool(ReadOnlySpan<char> text, out bool value)
    {
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }

        value = false;
        return text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryDate(ReadOnlySpan<char> text, out DateOnly value)
    {
        if (text.Length != 10 || text[4] != '-')
        {
            value = default;
            return false;
        }

        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    /// <summary>An ISO 8601 date and time (or a date alone: its midnight); without an offset, UTC.</summary>
    public static bool TryTimestamp(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        if (text.Length < 10 || text[4] != '-')
        {
            value = default;
            return false;
        }

        return DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    /// <summary>The text form of a value of each type: what a typed format's reader hands out, and each Try method reads back.</summary>
    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Text(bool value) => value ? "true" : "false";

    public static string Text(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="text"/> (not empty) is a value of <paramref name="type"/>.</summary>
    public static bool Is(ColumnType type, ReadOnlySpan<char> text) => type switch
    {
        ColumnType.Int64 => TryInt64(text, out _),
        ColumnType.Decimal => TryDecimal(text, out _),
        ColumnType.Double => TryDouble(text, out _),
        ColumnType.Bool => TryBool(text, out _),
        ColumnType.Date => TryDate(text, out _),
        ColumnType.Timestamp => TryTimestamp(text, out _),
        _ => true,
    };
}
