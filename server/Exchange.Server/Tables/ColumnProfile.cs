using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Tables;

/// <summary>
/// What one column's values add up to, in fixed memory: nulls, how many values parse as each
/// type (to infer the type and measure validity), distinct values, ranges and, for a describable
/// column, its most frequent values.
/// </summary>
internal sealed class ColumnProfile(Column declared)
{
    /// <summary>An inferred type is the most specific one at least this share of the values parse as.</summary>
    public const double InferenceShare = 0.95;

    private static readonly ColumnType[] InferenceOrder =
        [ColumnType.Bool, ColumnType.Int64, ColumnType.Decimal, ColumnType.Double, ColumnType.Date, ColumnType.Timestamp];

    // Copied out of the declaration: read for every value, and one pointer nearer than the message.
    private readonly ColumnType _declaredType = declared.Type;
    private readonly bool _emptyFits = declared.Type == ColumnType.Unspecified || declared.Nullable;
    private readonly HyperLogLog _distinct = new(12, exactUpTo: 256);
    private readonly FrequentValues? _frequent = declared.Describable ? new() : null;
    private readonly long[] _parsed = new long[8];
    private long _nulls;
    private long _values;
    // Each range holds only the values no narrower type took: a wider type's range is made up of them at
    // the end (the conversions keep order), which is far cheaper than widening every value as it comes.
    private long _minInt = long.MaxValue, _maxInt = long.MinValue;
    private decimal _minDecimal = decimal.MaxValue, _maxDecimal = decimal.MinValue;

    // Fixed-point numbers that fit a long once scaled, by their scale (digits after the point): compared
    // as integers, a small fraction of the cost of comparing decimals. Made into decimals at the end.
    private readonly long[] _minScaled = [.. Enumerable.Repeat(long.MaxValue, ColumnValues.MaxFixedPointScale + 1)];
    private readonly long[] _maxScaled = [.. Enumerable.Repeat(long.MinValue, ColumnValues.MaxFixedPointScale + 1)];
    private double _minDouble = double.PositiveInfinity, _maxDouble = double.NegativeInfinity;
    private DateOnly _minDate = DateOnly.MaxValue, _maxDate = DateOnly.MinValue;
    private long _minTicks = long.MaxValue, _maxTicks = long.MinValue;
    private string? _minText, _maxText;
    private int _scale;

    // The types still worth trying (bit n: ColumnType n): a declared type alone; else every type until,
    // at a check after every 1024th value (Prune), more than 1 - InferenceShare of the values so far
    // have failed it: then it is out for good, its count stopped. Those checks are part of the rule, not
    // only a saving: they fall at fixed counts of values, so the inferred type depends on the values and
    // their order alone, never on how the upload's bytes were cut (AddColumn stops at each of them too).
    private int _candidates = declared.Type switch
    {
        ColumnType.Unspecified => Bits(ColumnType.Bool, ColumnType.Int64, ColumnType.Decimal, ColumnType.Double, ColumnType.Date, ColumnType.Timestamp),
        ColumnType.String => 0,
        _ => Bits(declared.Type),
    };

    public string Name => declared.Name;

    public ColumnType DeclaredType => declared.Type;

    /// <summary>
    /// Counts one value (empty is null), written as UTF-16 or UTF-8 text; false when it breaks the
    /// column's declared type or nullability. <paramref name="hash"/> is the value's hash, the same for equal values.
    /// </summary>
    public bool Add<T>(ReadOnlySpan<T> text, ulong hash)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (text.IsEmpty)
        {
            _nulls++;
            return _emptyFits;
        }

        _values++;
        _distinct.Add(hash);
        if (_frequent is not null)
        {
            Describe(typeof(T) == typeof(char) ? MemoryMarshal.Cast<T, char>(text) : Encoding.UTF8.GetString(MemoryMarshal.Cast<T, byte>(text)));
        }

        // A text column (inferred or declared) has nothing to parse.
        return Fits(_candidates == 0 ? 0 : Parse(text));
    }

    /// <summary>Whether a value that parses as <paramref name="types"/> fits the column's declared type (any does an undeclared or text column).</summary>
    private bool Fits(int types) => _declaredType is ColumnType.Unspecified or ColumnType.String || (types & (1 << (int)_declaredType)) != 0;

    /// <summary>
    /// Counts column <paramref name="column"/> of a batch of CSV rows exactly as <see cref="Add"/> would,
    /// value by value: each value's hash goes into its row's, and a value breaking the declaration
    /// marks its row in <paramref name="broken"/> unless an earlier column did. A column whose type
    /// is settled is counted in a loop made for that type, its range in locals: most of a CSV's profile.
    /// </summary>
    public void AddColumn(CsvRowBatch rows, int column, Span<ulong> rowHashes, Span<int> broken)
    {
        for (var row = 0; row < rows.Count; row++)
        {
            row = Settled(rows, column, row, rowHashes, broken);
            if (row < rows.Count)
            {
                // One value the general way: a column with no loop of its own, or a value at which inference prunes its candidates.
                var text = rows.Value(column, row);
                var cell = RowTally.Hash(text);
                rowHashes[row] = RowTally.Combine(rowHashes[row], cell);
                if (!Add(text, cell) && broken[row] < 0)
                {
                    broken[row] = column;
                }
            }
        }
    }

    /// <summary>Counts the values from <paramref name="from"/> in the loop made for the column's settled type, if it has one; returns where it stopped.</summary>
    private int Settled(CsvRowBatch rows, int column, int from, Span<ulong> rowHashes, Span<int> broken)
    {
        const int Integers = (1 << (int)ColumnType.Int64) | (1 << (int)ColumnType.Decimal) | (1 << (int)ColumnType.Double);
        const int FixedPoints = (1 << (int)ColumnType.Decimal) | (1 << (int)ColumnType.Double);
        const int Dates = (1 << (int)ColumnType.Date) | (1 << (int)ColumnType.Timestamp);
        var candidates = _candidates;
        if (_frequent is not null)
        {
            return from;
        }

        // Each loop stands for Parse when the candidates are the type it reads and wider types only:
        // a value it reads is counted for all of them, as Parse would; any other value goes to Parse.
        return candidates switch
        {
            0 => Settled(new TextReading(), candidates, rows, column, from, rowHashes, broken),
            _ when Within(candidates, ColumnType.Int64, Integers) => Settled(new IntegerReading(), candidates, rows, column, from, rowHashes, broken),
            _ when Within(candidates, ColumnType.Decimal, FixedPoints) => Settled(new DecimalReading(), candidates, rows, column, from, rowHashes, broken),
            _ when Within(candidates, ColumnType.Date, Dates) => Settled(new DateReading(), candidates, rows, column, from, rowHashes, broken),
            _ when candidates == 1 << (int)ColumnType.Timestamp => Settled(new TimestampReading(), candidates, rows, column, from, rowHashes, broken),
            _ when candidates == 1 << (int)ColumnType.Bool => Settled(new BoolReading(), candidates, rows, column, from, rowHashes, broken),
            _ => from,
        };

        static bool Within(int candidates, ColumnType first, int nest) => Has(candidates, first) && (candidates & ~nest) == 0;
    }

    // Not inlined: each loop is compiled on its own, its locals in registers, where inlined into
    // one large method they were spilled to the stack around every value's hash.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Settled<TReading>(TReading reading, int candidates, CsvRowBatch rows, int column, int from, Span<ulong> rowHashes, Span<int> broken)
        where TReading : struct, IReading
    {
        // Inference prunes its candidates as the count of values passes each multiple of 1024 (Parse):
        // the loop stops before such a value, so that Add takes it.
        var values = _values;
        var last = _declaredType == ColumnType.Unspecified && candidates != 0 ? values | 1023 : long.MaxValue;
        var emptyFits = _emptyFits;
        long nulls = 0, read = 0;
        rows.Column(column, out var block, out var starts, out var ends);
        var row = from;
        for (; row < starts.Length; row++)
        {
            var text = rows.Unescaped(block[starts[row]..ends[row]]);
            if (text.IsEmpty)
            {
                nulls++;
                rowHashes[row] = RowTally.Combine(rowHashes[row], RowTally.Hash(text));
                if (!emptyFits && broken[row] < 0)
                {
                    broken[row] = column;
                }

                continue;
            }

            if (values == last)
            {
                break;
            }

            values++;
            var cell = RowTally.Hash(text);
            rowHashes[row] = RowTally.Combine(rowHashes[row], cell);
            _distinct.Add(cell);
            if (reading.Read(text))
            {
                read++;
            }
            else
            {
                _values = values;
                if (!Fits(Parse(text)) && broken[row] < 0)
                {
                    broken[row] = column;
                }
            }
        }

        (_values, _nulls) = (values, _nulls + nulls);
        for (var type = 0; type < _parsed.Length; type++)
        {
            _parsed[type] += Has(candidates, (ColumnType)type) ? read : 0;
        }

        reading.Keep(this);
        return row;
    }

    private void Describe(ReadOnlySpan<char> text)
    {
        _frequent!.Add(text);
        if (_minText is null || text.SequenceCompareTo(_minText) < 0)
        {
            _minText = text.ToString();
        }

        if (_maxText is null || text.SequenceCompareTo(_maxText) > 0)
        {
            _maxText = text.ToString();
        }
    }

    /// <summary>The column as inferred (or declared), its quality, and its newest date or time if it holds dates or times.</summary>
    public (Column Column, ColumnQuality Quality, DateTimeOffset? Newest) Finish(long rows)
    {
        var type = declared.Type != ColumnType.Unspecified ? declared.Type : Infer();
        var column = new Column
        {
            Name = declared.Name,
            Type = type,
            Nullable = declared.Type == ColumnType.Unspecified ? _nulls > 0 : declared.Nullable,
            Describable = declared.Describable,
            Scale = type == ColumnType.Decimal ? _scale : 0,
        };
        var valid = type == ColumnType.String ? _values : _parsed[(int)type];
        var quality = new ColumnQuality
        {
            Name = declared.Name,
            NullCount = _nulls,
            Completeness = rows == 0 ? 1 : 1 - ((double)_nulls / rows),
            InvalidCount = _values - valid,
            Validity = _values == 0 ? 1 : (double)valid / _values,
            DistinctEstimate = Math.Min(_distinct.Estimate(), _values),
        };
        if (_frequent is not null && valid > 0)
        {
            (quality.Min, quality.Max) = Range(type);
            quality.TopValues.Add(_frequent.Top(5).Select(top => new ValueCount { Value = top.Value, Count = top.Count }));
        }

        DateTimeOffset? newest = type switch
        {
            ColumnType.Date when valid > 0 => Time(_maxDate),
            ColumnType.Timestamp when valid > 0 => TimeRange().Max,
            _ => null,
        };
        return (column, quality, newest);
    }

    /// <summary>The types <paramref name="text"/> parses as (bit n: ColumnType n), keeping the ranges of each.</summary>
    private int Parse<T>(ReadOnlySpan<T> text)
        where T : unmanaged, IBinaryInteger<T>
    {
        if ((_values & 1023) == 0 && _declaredType == ColumnType.Unspecified)
        {
            Prune();
        }

        var candidates = _candidates;
        if (candidates == 0)
        {
            // Text, inferred or declared.
            return 0;
        }

        var types = 0;
        var first = (char)uint.CreateTruncating(text[0]);
        if (Has(candidates, ColumnType.Bool) && first is 't' or 'T' or 'f' or 'F' && ColumnValues.TryBool(text, out _))
        {
            types |= Count(candidates, ColumnType.Bool);
        }

        if (char.IsAsciiDigit(first) || first is '-' or '+' or '.' or 'N' or 'I')
        {
            // The written forms nest: an integer is also a fixed-point and a floating-point number, a
            // fixed-point number a floating-point one, a date a timestamp. What the narrower form
            // parsed is counted for the wider ones without parsing it again.
            if (Has(candidates, ColumnType.Int64) && ColumnValues.TryInt64(text, out var integer))
            {
                (_minInt, _maxInt) = (Math.Min(_minInt, integer), Math.Max(_maxInt, integer));
                types |= Count(candidates, ColumnType.Int64) | Count(candidates, ColumnType.Decimal) | Count(candidates, ColumnType.Double);
            }
            else if (Has(candidates, ColumnType.Decimal) && ColumnValues.TryFixedPoint(text, out var scaled, out var scale))
            {
                _scale = Math.Max(_scale, scale);
                (_minScaled[scale], _maxScaled[scale]) = (Math.Min(_minScaled[scale], scaled), Math.Max(_maxScaled[scale], scaled));
                types |= Count(candidates, ColumnType.Decimal) | Count(candidates, ColumnType.Double);
            }
            else if (Has(candidates, ColumnType.Decimal) && ColumnValues.TryDecimal(text, out var fixedPoint))
            {
                _scale = Math.Max(_scale, fixedPoint.Scale);
                (_minDecimal, _maxDecimal) = (Math.Min(_minDecimal, fixedPoint), Math.Max(_maxDecimal, fixedPoint));
                types |= Count(candidates, ColumnType.Decimal) | Count(candidates, ColumnType.Double);
            }
            else if (Has(candidates, ColumnType.Double) && ColumnValues.TryDouble(text, out var floating))
            {
                if (!double.IsNaN(floating))
                {
                    (_minDouble, _maxDouble) = (Math.Min(_minDouble, floating), Math.Max(_maxDouble, floating));
                }

                types |= Count(candidates, ColumnType.Double);
            }

            if (Has(candidates, ColumnType.Date) && ColumnValues.TryDate(text, out var date))
            {
                (_minDate, _maxDate) = (date < _minDate ? date : _minDate, date > _maxDate ? date : _maxDate);
                types |= Count(candidates, ColumnType.Date) | Count(candidates, ColumnType.Timestamp);
            }
            else if (Has(candidates, ColumnType.Timestamp) && ColumnValues.TryTimestampTicks(text, out var ticks))
            {
                (_minTicks, _maxTicks) = (Math.Min(_minTicks, ticks), Math.Max(_maxTicks, ticks));
                types |= Count(candidates, ColumnType.Timestamp);
            }
        }

        return types;
    }

    private static int Bits(params ColumnType[] types) => types.Aggregate(0, (bits, type) => bits | (1 << (int)type));

    private static bool Has(int bits, ColumnType type) => (bits & (1 << (int)type)) != 0;

    private void Prune()
    {
        foreach (var type in InferenceOrder)
        {
            if (Has(_candidates, type) && _values - _parsed[(int)type] > (1 - InferenceShare) * _values)
            {
                _candidates &= ~(1 << (int)type);
            }
        }
    }

    /// <summary>Counts a value as parsing as <paramref name="type"/>, if that is still a candidate.</summary>
    private int Count(int candidates, ColumnType type)
    {
        if (!Has(candidates, type))
        {
            return 0;
        }

        _parsed[(int)type]++;
        return 1 << (int)type;
    }

    private ColumnType Infer()
    {
        foreach (var type in InferenceOrder)
        {
            if (_values > 0 && _parsed[(int)type] >= InferenceShare * _values)
            {
                return type;
            }
        }

        return ColumnType.String;
    }

    private (string Min, string Max) Range(ColumnType type)
    {
        var integers = _minInt <= _maxInt;
        switch (type)
        {
            case ColumnType.Int64:
                return (ColumnValues.Text(_minInt), ColumnValues.Text(_maxInt));
            case ColumnType.Decimal:
                var (minDecimal, maxDecimal) = DecimalRange();
                (minDecimal, maxDecimal) = integers ? (Math.Min(minDecimal, _minInt), Math.Max(maxDecimal, _maxInt)) : (minDecimal, maxDecimal);
                return (ColumnValues.Text(minDecimal), ColumnValues.Text(maxDecimal));
            case ColumnType.Double:
                var (minDouble, maxDouble) = (_minDouble, _maxDouble);
                if (integers)
                {
                    (minDouble, maxDouble) = (Math.Min(minDouble, _minInt), Math.Max(maxDouble, _maxInt));
                }

                var (minFixed, maxFixed) = DecimalRange();
                if (minFixed <= maxFixed)
                {
                    (minDouble, maxDouble) = (Math.Min(minDouble, (double)minFixed), Math.Max(maxDouble, (double)maxFixed));
                }

                // Only NaNs leave the range empty (min above max).
                return minDouble <= maxDouble ? (ColumnValues.Text(minDouble), ColumnValues.Text(maxDouble)) : ("", "");
            case ColumnType.Date:
                return (ColumnValues.Text(_minDate), ColumnValues.Text(_maxDate));
            case ColumnType.Timestamp:
                var (minTime, maxTime) = TimeRange();
                return (ColumnValues.Text(minTime), ColumnValues.Text(maxTime));
            case ColumnType.Bool:
                return ("", "");
            default:
                return (_minText ?? "", _maxText ?? "");
        }
    }

    /// <summary>The fixed-point values' range: those compared as decimals and those compared scaled; min above max when there were none.</summary>
    private (decimal Min, decimal Max) DecimalRange()
    {
        var (min, max) = (_minDecimal, _maxDecimal);
        for (var scale = 0; scale < _minScaled.Length; scale++)
        {
            if (_minScaled[scale] <= _maxScaled[scale])
            {
                (min, max) = (Math.Min(min, Scaled(_minScaled[scale], scale)), Math.Max(max, Scaled(_maxScaled[scale], scale)));
            }
        }

        return (min, max);
    }

    private static decimal Scaled(long scaled, int scale) =>
        new(unchecked((int)(uint)Math.Abs(scaled)), (int)(Math.Abs(scaled) >> 32), 0, scaled < 0, (byte)scale);

    private (DateTimeOffset Min, DateTimeOffset Max) TimeRange()
    {
        var (min, max) = (_minTicks, _maxTicks);
        if (_minDate <= _maxDate)
        {
            (min, max) = (Math.Min(min, Time(_minDate).UtcTicks), Math.Max(max, Time(_maxDate).UtcTicks));
        }

        return (new DateTimeOffset(min, TimeSpan.Zero), new DateTimeOffset(max, TimeSpan.Zero));
    }

    private static DateTimeOffset Time(DateOnly date) => new(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>How long before <paramref name="upload"/> <paramref name="newest"/> lies.</summary>
    public static Duration Age(DateTimeOffset upload, DateTimeOffset newest) => Duration.FromTimeSpan(upload - newest);

    /// <summary>
    /// A settled type's reading of a CSV value (not empty). Ranges of numbers are shown only for a
    /// describable column, which these loops never count (Settled), so a number's reading keeps only
    /// what the profile reports otherwise: a decimal's scale. Dates and times keep their range: its
    /// end is the newest, which the report's currentness needs.
    /// </summary>
    private interface IReading
    {
        bool Read(ReadOnlySpan<byte> text);

        void Keep(ColumnProfile profile);
    }

    private readonly struct TextReading : IReading
    {
        public bool Read(ReadOnlySpan<byte> text) => true;

        public void Keep(ColumnProfile profile)
        {
        }
    }

    private readonly struct IntegerReading : IReading
    {
        public bool Read(ReadOnlySpan<byte> text) => ColumnValues.TryInt64(text, out _);

        public void Keep(ColumnProfile profile)
        {
        }
    }

    private struct DecimalReading : IReading
    {
        private int _scale;

        public bool Read(ReadOnlySpan<byte> text)
        {
            if (!ColumnValues.TryFixedPoint(text, out _, out var scale))
            {
                return false;
            }

            _scale = Math.Max(_scale, scale);
            return true;
        }

        public readonly void Keep(ColumnProfile profile) => profile._scale = Math.Max(profile._scale, _scale);
    }

    private struct DateReading() : IReading
    {
        private DateOnly _min = DateOnly.MaxValue, _max = DateOnly.MinValue;

        public bool Read(ReadOnlySpan<byte> text)
        {
            if (!ColumnValues.TryDate(text, out var date))
            {
                return false;
            }

            (_min, _max) = (date < _min ? date : _min, date > _max ? date : _max);
            return true;
        }

        public readonly void Keep(ColumnProfile profile) =>
            (profile._minDate, profile._maxDate) = (_min < profile._minDate ? _min : profile._minDate, _max > profile._maxDate ? _max : profile._maxDate);
    }

    private struct TimestampReading() : IReading
    {
        private long _min = long.MaxValue, _max = long.MinValue;

        public bool Read(ReadOnlySpan<byte> text)
        {
            if (!ColumnValues.TryTimestampTicks(text, out var ticks))
            {
                return false;
            }

            (_min, _max) = (Math.Min(_min, ticks), Math.Max(_max, ticks));
            return true;
        }

        public readonly void Keep(ColumnProfile profile) =>
            (profile._minTicks, profile._maxTicks) = (Math.Min(profile._minTicks, _min), Math.Max(profile._maxTicks, _max));
    }

    private readonly struct BoolReading : IReading
    {
        // Parse tries a value as a bool only when it starts as one can.
        public bool Read(ReadOnlySpan<byte> text) => text[0] is (byte)'t' or (byte)'T' or (byte)'f' or (byte)'F' && ColumnValues.TryBool(text, out _);

        public void Keep(ColumnProfile profile)
        {
        }
    }
}
