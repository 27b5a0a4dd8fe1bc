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

    private readonly HyperLogLog _distinct = new(12, exactUpTo: 256);
    private readonly FrequentValues? _frequent = declared.Describable ? new() : null;
    private readonly long[] _parsed = new long[8];
    private long _nulls;
    private long _values;
    private long _minInt = long.MaxValue, _maxInt = long.MinValue;
    private decimal _minDecimal = decimal.MaxValue, _maxDecimal = decimal.MinValue;
    private double _minDouble = double.PositiveInfinity, _maxDouble = double.NegativeInfinity;
    private DateOnly _minDate = DateOnly.MaxValue, _maxDate = DateOnly.MinValue;
    private DateTimeOffset _minTime = DateTimeOffset.MaxValue, _maxTime = DateTimeOffset.MinValue;
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

    /// <summary>Counts one value (empty is null); false when it breaks the column's declared type or nullability.</summary>
    public bool Add(ReadOnlySpan<char> text, ulong hash)
    {
        if (text.IsEmpty)
        {
            _nulls++;
            return declared.Type == ColumnType.Unspecified || declared.Nullable;
        }

        _values++;
        _distinct.Add(hash);
        if (_frequent is not null)
        {
            _frequent.Add(text);
            if (_minText is null || text.SequenceCompareTo(_minText) < 0)
            {
                _minText = text.ToString();
            }

            if (_maxText is null || text.SequenceCompareTo(_maxText) > 0)
            {
                _maxText = text.ToString();
            }
        }

        var types = Parse(text);
        return declared.Type is ColumnType.Unspecified or ColumnType.String || (types & (1 << (int)declared.Type)) != 0;
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
            ColumnType.Date when valid > 0 => new DateTimeOffset(_maxDate.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero),
            ColumnType.Timestamp when valid > 0 => _maxTime,
            _ => null,
        };
        return (column, quality, newest);
    }

    /// <summary>The types <paramref name="text"/> parses as (bit n: ColumnType n), keeping the ranges of each.</summary>
    private int Parse(ReadOnlySpan<char> text)
    {
        if ((_values & 1023) == 0 && declared.Type == ColumnType.Unspecified)
        {
            Prune();
        }

        var types = 0;
        var candidates = _candidates;
        var first = text[0];
        if (Has(candidates, ColumnType.Bool) && first is 't' or 'T' or 'f' or 'F' && ColumnValues.TryBool(text, out _))
        {
            types |= Count(ColumnType.Bool);
        }

        if (char.IsAsciiDigit(first) || first is '-' or '+' or '.' or 'N' or 'I')
        {
            // The written forms nest: an integer is also a fixed-point and a floating-point number, a
            // fixed-point number a floating-point one, a date a timestamp. What the narrower form
            // parsed is counted for the wider ones without parsing it again.
            if (Has(candidates, ColumnType.Int64) && ColumnValues.TryInt64(text, out var integer))
            {
                types |= Count(ColumnType.Int64);
                (_minInt, _maxInt) = (Math.Min(_minInt, integer), Math.Max(_maxInt, integer));
                types |= Fixed(candidates, integer) | Floating(candidates, integer);
            }
            else if (Has(candidates, ColumnType.Decimal) && ColumnValues.TryDecimal(text, out var fixedPoint))
            {
                types |= Fixed(candidates, fixedPoint) | Floating(candidates, (double)fixedPoint);
            }
            else if (Has(candidates, ColumnType.Double) && ColumnValues.TryDouble(text, out var floating))
            {
                types |= Floating(candidates, floating);
            }

            if (Has(candidates, ColumnType.Date) && ColumnValues.TryDate(text, out var date))
            {
                types |= Count(ColumnType.Date);
                (_minDate, _maxDate) = (date < _minDate ? date : _minDate, date > _maxDate ? date : _maxDate);
                types |= Time(candidates, new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            }
            else if (Has(candidates, ColumnType.Timestamp) && ColumnValues.TryTimestamp(text, out var time))
            {
                types |= Time(candidates, time);
            }
        }

        return types;
    }

    private int Fixed(int candidates, decimal value)
    {
        if (!Has(candidates, ColumnType.Decimal))
        {
            return 0;
        }

        _scale = Math.Max(_scale, value.Scale);
        (_minDecimal, _maxDecimal) = (Math.Min(_minDecimal, value), Math.Max(_maxDecimal, value));
        return Count(ColumnType.Decimal);
    }

    private int Floating(int candidates, double value)
    {
        if (!Has(candidates, ColumnType.Double))
        {
            return 0;
        }

        if (!double.IsNaN(value))
        {
            (_minDouble, _maxDouble) = (Math.Min(_minDouble, value), Math.Max(_maxDouble, value));
        }

        return Count(ColumnType.Double);
    }

    private int Time(int candidates, DateTimeOffset value)
    {
        if (!Has(candidates, ColumnType.Timestamp))
        {
            return 0;
        }

        (_minTime, _maxTime) = (value < _minTime ? value : _minTime, value > _maxTime ? value : _maxTime);
        return Count(ColumnType.Timestamp);
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

    private int Count(ColumnType type)
    {
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

    private (string Min, string Max) Range(ColumnType type) => type switch
    {
        ColumnType.Int64 => (ColumnValues.Text(_minInt), ColumnValues.Text(_maxInt)),
        ColumnType.Decimal => (ColumnValues.Text(_minDecimal), ColumnValues.Text(_maxDecimal)),
        // Only NaNs leave the range empty (min above max).
        ColumnType.Double => _minDouble <= _maxDouble ? (ColumnValues.Text(_minDouble), ColumnValues.Text(_maxDouble)) : ("", ""),
        ColumnType.Date => (ColumnValues.Text(_minDate), ColumnValues.Text(_maxDate)),
        ColumnType.Timestamp => (ColumnValues.Text(_minTime), ColumnValues.Text(_maxTime)),
        ColumnType.Bool => ("", ""),
        _ => (_minText ?? "", _maxText ?? ""),
    };

    /// <summary>How long before <paramref name="upload"/> <paramref name="newest"/> lies.</summary>
    public static Duration Age(DateTimeOffset upload, DateTimeOffset newest) => Duration.FromTimeSpan(upload - newest);
}
