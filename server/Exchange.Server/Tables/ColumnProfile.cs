using System.Numerics;
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
    private readonly bool _nullable = declared.Nullable;
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

    // The types still worth trying (bit n: ColumnType n): a declared type alone; else every type until
    // more than 1 - InferenceShare of the values so far have failed it. Such a type can never reach the
    // share again (its count stops, the values go on), so dropping it changes no answer, only the work.
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
            return _declaredType == ColumnType.Unspecified || _nullable;
        }

        _values++;
        _distinct.Add(hash);
        if (_frequent is not null)
        {
            Describe(typeof(T) == typeof(char) ? MemoryMarshal.Cast<T, char>(text) : Encoding.UTF8.GetString(MemoryMarshal.Cast<T, byte>(text)));
        }

        // A text column (inferred or declared) has nothing to parse.
        var types = _candidates == 0 ? 0 : Parse(text);
        return _declaredType is ColumnType.Unspecified or ColumnType.String || (types & (1 << (int)_declaredType)) != 0;
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
}
