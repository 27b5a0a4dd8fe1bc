using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// How a value written as text is read as each column type: one set of rules for profiling,
/// declared schemas and everything later built on a table's values.
/// </summary>
internal static class ColumnValues
{
    /// <summary>The largest scale <see cref="TryFixedPoint{T}"/> reads: 18 digits after the point.</summary>
    public const int MaxFixedPointScale = 18;

    private static readonly ulong[] Pow10 = [.. Enumerable.Range(0, 20).Select(n => (ulong)Math.Pow(10, n))];

    private const NumberStyles FloatingPoint = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private static readonly SearchValues<char> NumberChars = SearchValues.Create("0123456789+-.eE");
    private static readonly SearchValues<byte> NumberBytes = SearchValues.Create("0123456789+-.eE"u8);

    /// <summary>A type's name in messages, as the contract writes it without its prefix (INT64).</summary>
    public static string TypeName(ColumnType type) => type.ToString().ToUpperInvariant();

    // Each rule is written once, over UTF-16 text (values held as strings) and UTF-8 bytes (a CSV read
    // as it arrives) alike: the JIT compiles a copy per character type, so neither pays for the other.

    /// <summary>A whole number ("-42"); leading zeros make it a code, not a number ("007" stays text).</summary>
    public static bool TryInt64(ReadOnlySpan<char> text, out long value) => TryInt64<char>(text, out value);

    /// <summary>A fixed-point number: digits with at most one decimal point, no exponent ("12.50", "-0.1").</summary>
    public static bool TryDecimal(ReadOnlySpan<char> text, out decimal value) => TryDecimal<char>(text, out value);

    /// <summary>A floating-point number, with an exponent or not, or NaN or (-)Infinity.</summary>
    public static bool TryDouble(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        // Only the characters a number is written with reach the general parser.
        return !text.IsEmpty && (text.IndexOfAnyExcept(NumberChars) < 0 || text is "NaN" or "Infinity" or "-Infinity")
            && double.TryParse(text, FloatingPoint, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryDouble<T>(ReadOnlySpan<T> text, out double value)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (typeof(T) == typeof(char))
        {
            return TryDouble(MemoryMarshal.Cast<T, char>(text), out value);
        }

        var utf8 = MemoryMarshal.Cast<T, byte>(text);
        value = 0;
        return !utf8.IsEmpty
            && (utf8.IndexOfAnyExcept(NumberBytes) < 0 || utf8.SequenceEqual("NaN"u8) || utf8.SequenceEqual("Infinity"u8) || utf8.SequenceEqual("-Infinity"u8))
            && double.TryParse(utf8, FloatingPoint, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryBool(ReadOnlySpan<char> text, out bool value) => TryBool<char>(text, out value);

    /// <summary>An ISO 8601 calendar date, "2026-12-01".</summary>
    public static bool TryDate(ReadOnlySpan<char> text, out DateOnly value) => TryDate<char>(text, out value);

    /// <summary>
    /// An ISO 8601 date and time: <c>yyyy-MM-dd</c>, then <c>T</c> or a space and <c>HH:mm</c>,
    /// optionally <c>:ss</c> and up to 7 fractional digits, then <c>Z</c>, <c>±HH:mm</c> or nothing
    /// (UTC); or a date alone (its midnight, UTC).
    /// </summary>
    public static bool TryTimestamp(ReadOnlySpan<char> text, out DateTimeOffset value) => TryTimestamp<char>(text, out value);

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryInt64<T>(ReadOnlySpan<T> text, out long value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = 0;
        var negative = !text.IsEmpty && Is(text[0], '-');
        var digits = negative ? text[1..] : text;
        if (digits.IsEmpty || digits.Length > 19 || (Is(digits[0], '0') && digits.Length > 1) || !Digits(digits, out var magnitude))
        {
            return false;
        }

        if (magnitude > (negative ? 9_223_372_036_854_775_808UL : long.MaxValue))
        {
            return false;
        }

        value = negative ? unchecked((long)(0UL - magnitude)) : (long)magnitude;
        return true;
    }

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryDecimal<T>(ReadOnlySpan<T> text, out decimal value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = 0;
        var negative = !text.IsEmpty && Is(text[0], '-');
        var number = negative ? text[1..] : text;
        switch (ReadFixedPoint(number, out var magnitude, out var scale))
        {
            case FixedPointReading.Read:
                // The common case without the general number parser.
                value = new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, negative, (byte)scale);
                return true;
            case FixedPointReading.NotOne:
                return false;
        }

        const NumberStyles style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;
        var parsed = typeof(T) == typeof(char)
            ? decimal.TryParse(MemoryMarshal.Cast<T, char>(text), style, CultureInfo.InvariantCulture, out value)
            : decimal.TryParse(MemoryMarshal.Cast<T, byte>(text), style, CultureInfo.InvariantCulture, out value);
        return parsed && !Is(text[0], '+');
    }

    /// <summary>
    /// The fixed-point numbers that fit a long once scaled (all but the longest): <paramref name="text"/>
    /// is <paramref name="scaled"/> / 10^<paramref name="scale"/>. Where this is true, <see cref="TryDecimal{T}"/>
    /// reads the same value; where false, it may still read one (ask it). A profile compares these as
    /// integers of one scale, which costs a fraction of comparing decimals.
    /// </summary>
    public static bool TryFixedPoint<T>(ReadOnlySpan<T> text, out long scaled, out int scale)
        where T : unmanaged, IBinaryInteger<T>
    {
        scaled = 0;
        var negative = !text.IsEmpty && Is(text[0], '-');
        if (ReadFixedPoint(negative ? text[1..] : text, out var magnitude, out scale) != FixedPointReading.Read
            || magnitude > long.MaxValue || scale > MaxFixedPointScale)
        {
            scale = 0;
            return false;
        }

        scaled = negative ? -(long)magnitude : (long)magnitude;
        return true;
    }

    /// <summary>
    /// Reads <paramref name="number"/> (its sign taken off) as digits with at most one point, in one
    /// pass: for values this short, searching for the point first cost more. Up to 19 digits, which
    /// a ulong holds exactly; longer ones are left to the general number parser.
    /// </summary>
    private static FixedPointReading ReadFixedPoint<T>(ReadOnlySpan<T> number, out ulong magnitude, out int scale)
        where T : unmanaged, IBinaryInteger<T>
    {
        (magnitude, scale) = (0, 0);
        if (number.Length > 20 || (number.Length == 20 && number.IndexOf(T.CreateTruncating('.')) < 0))
        {
            return FixedPointReading.TooLong;
        }

        var point = -1;
        for (var i = 0; i < number.Length; i++)
        {
            var digit = uint.CreateTruncating(number[i]) - '0';
            if (digit <= 9)
            {
                magnitude = (magnitude * 10) + digit;
            }
            else if (point < 0 && Is(number[i], '.'))
            {
                point = i;
            }
            else
            {
                return FixedPointReading.NotOne;
            }
        }

        if (number.Length == (point < 0 ? 0 : 1))
        {
            // No digit at all: "", "-", ".".
            return FixedPointReading.NotOne;
        }

        scale = point < 0 ? 0 : number.Length - point - 1;
        return FixedPointReading.Read;
    }

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryBool<T>(ReadOnlySpan<T> text, out bool value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = Lowercase(text, "true");
        return value || Lowercase(text, "false");
    }

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryDate<T>(ReadOnlySpan<T> text, out DateOnly value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = default;
        if (text.Length != 10 || !Date(text, out var year, out var month, out var day))
        {
            return false;
        }

        value = DateOnly.FromDayNumber(DayNumber(year, month, day));
        return true;
    }

    /// <summary>The rule for text of either character type: UTF-16 or UTF-8.</summary>
    public static bool TryTimestamp<T>(ReadOnlySpan<T> text, out DateTimeOffset value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = default;
        if (!TryTimestampParts(text, out var parts) || !InRange(UtcTicks(parts)))
        {
            return false;
        }

        value = new DateTimeOffset(parts.Year, parts.Month, parts.Day, parts.Hour, parts.Minute, parts.Second, TimeSpan.FromMinutes(parts.OffsetMinutes))
            .AddTicks(parts.Ticks);
        return true;
    }

    /// <summary>
    /// The instant <see cref="TryTimestamp{T}"/> reads, as ticks since 0001-01-01 UTC, without building
    /// a <see cref="DateTimeOffset"/> (which validates every part again): a profile compares instants
    /// of every value of a column.
    /// </summary>
    public static bool TryTimestampTicks<T>(ReadOnlySpan<T> text, out long utcTicks)
        where T : unmanaged, IBinaryInteger<T>
    {
        utcTicks = 0;
        if (!TryTimestampParts(text, out var parts))
        {
            return false;
        }

        utcTicks = UtcTicks(parts);
        return InRange(utcTicks);
    }

    /// <summary>The day <paramref name="year"/>-<paramref name="month"/>-<paramref name="day"/> (a real date) as <see cref="DateOnly.DayNumber"/> counts it.</summary>
    public static int DayNumber(int year, int month, int day)
    {
        // Counted from March, so that the leap day falls last in its year (Hinnant's days_from_civil).
        if (month < 3)
        {
            (year, month) = (year - 1, month + 12);
        }

        return (365 * year) + (year / 4) - (year / 100) + (year / 400) + (((153 * (month - 3)) + 2) / 5) + day - 307;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long UtcTicks(in TimestampParts parts) =>
        (DayNumber(parts.Year, parts.Month, parts.Day) * TimeSpan.TicksPerDay) + (parts.Hour * TimeSpan.TicksPerHour)
        + ((parts.Minute - parts.OffsetMinutes) * TimeSpan.TicksPerMinute) + (parts.Second * TimeSpan.TicksPerSecond) + parts.Ticks;

    /// <summary>Whether the instant lies within what a <see cref="DateTimeOffset"/> holds (an offset can push a valid clock time out: year 1 at +01:00).</summary>
    private static bool InRange(long utcTicks) => utcTicks >= 0 && utcTicks <= DateTime.MaxValue.Ticks;

    // Inlined into both readers: a call returning the parts cost more than building the DateTimeOffset saved.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryTimestampParts<T>(ReadOnlySpan<T> text, out TimestampParts parts)
        where T : unmanaged, IBinaryInteger<T>
    {
        parts = default;
        if (text.Length < 10 || !Date(text, out var year, out var month, out var day))
        {
            return false;
        }

        int hour = 0, minute = 0, second = 0, offset = 0;
        long ticks = 0;
        var rest = text[10..];
        if (!rest.IsEmpty)
        {
            if (rest.Length < 6 || !(Is(rest[0], 'T') || Is(rest[0], ' ')) || !Two(rest[1..], out hour) || !Is(rest[3], ':') || !Two(rest[4..], out minute)
                || hour > 23 || minute > 59)
            {
                return false;
            }

            rest = rest[6..];
            if (!rest.IsEmpty && Is(rest[0], ':'))
            {
                if (rest.Length < 3 || !Two(rest[1..], out second) || second > 59)
                {
                    return false;
                }

                rest = rest[3..];
                if (!rest.IsEmpty && Is(rest[0], '.'))
                {
                    var digits = rest[1..].IndexOfAnyExceptInRange(T.CreateTruncating('0'), T.CreateTruncating('9'));
                    digits = digits < 0 ? rest.Length - 1 : digits;
                    if (digits is < 1 or > 7 || !Digits(rest.Slice(1, digits), out var fraction))
                    {
                        return false;
                    }

                    ticks = (long)fraction * (long)Pow10[7 - digits];
                    rest = rest[(1 + digits)..];
                }
            }

            if (rest.Length == 1 && Is(rest[0], 'Z'))
            {
                rest = default;
            }
            else if (rest.Length == 6 && (Is(rest[0], '+') || Is(rest[0], '-')) && Two(rest[1..], out var offsetHours) && Is(rest[3], ':')
                && Two(rest[4..], out var offsetMinutes) && offsetMinutes <= 59 && (offsetHours * 60) + offsetMinutes <= 14 * 60)
            {
                offset = ((offsetHours * 60) + offsetMinutes) * (Is(rest[0], '-') ? -1 : 1);
                rest = default;
            }

            if (!rest.IsEmpty)
            {
                return false;
            }
        }

        parts = new TimestampParts(year, month, day, hour, minute, second, ticks, offset);
        return true;
    }

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

    /// <summary>Decimal digits only (none is zero), as a number; at most 19 of them.</summary>
    private static bool Digits<T>(ReadOnlySpan<T> text, out ulong value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = 0;
        foreach (var c in text)
        {
            var digit = uint.CreateTruncating(c) - '0';
            if (digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    private static bool Two<T>(ReadOnlySpan<T> text, out int value)
        where T : unmanaged, IBinaryInteger<T>
    {
        var (tens, ones) = (uint.CreateTruncating(text[0]) - '0', uint.CreateTruncating(text[1]) - '0');
        value = (int)((tens * 10) + ones);
        return tens <= 9 && ones <= 9;
    }

    /// <summary>The date at the start of <paramref name="text"/> (10 characters, yyyy-MM-dd), if it is a real one.</summary>
    private static bool Date<T>(ReadOnlySpan<T> text, out int year, out int month, out int day)
        where T : unmanaged, IBinaryInteger<T>
    {
        (month, day) = (0, 0);
        year = 0;
        if (!Is(text[4], '-') || !Is(text[7], '-') || !Digits(text[..4], out var y) || !Two(text[5..], out month) || !Two(text[8..], out day))
        {
            return false;
        }

        year = (int)y;
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool Is<T>(T c, char ascii)
        where T : unmanaged, IBinaryInteger<T> => uint.CreateTruncating(c) == ascii;

    /// <summary>Whether <paramref name="text"/> is <paramref name="lower"/> (ASCII, lowercase) in any case.</summary>
    private static bool Lowercase<T>(ReadOnlySpan<T> text, string lower)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (text.Length != lower.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            // Setting the 0x20 bit lowercases an ASCII letter; no other character lands on one by it.
            if ((uint.CreateTruncating(text[i]) | 0x20) != lower[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A timestamp as written: its clock time, fraction of a second in ticks, and offset from UTC in minutes.</summary>
    private readonly record struct TimestampParts(int Year, int Month, int Day, int Hour, int Minute, int Second, long Ticks, int OffsetMinutes);

    private enum FixedPointReading
    {
        NotOne,
        Read,
        TooLong,
    }
}
