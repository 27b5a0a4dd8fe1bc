using System.Globalization;
using System.Text;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// One column's mask, applied to each value as it is delivered. An empty (null) value stays null,
/// and so does one that is not of the column's type where the mask needs the type.
/// </summary>
internal sealed class ColumnMask : IDisposable
{
    private readonly Mask _mask;
    private readonly ColumnType _type;
    private readonly decimal _width;

    // One keyed HMAC for all of a delivery's values: keying it per value would cost more than hashing.
    private readonly BatchHmac? _hmac;
    private char[] _output = new char[64];

    // A block's values as UTF-8, back to back, and their MACs, for hashing them together.
    private byte[] _bytes = [];
    private int[] _starts = [];
    private int[] _lengths = [];
    private byte[] _macs = [];

    /// <param name="mask">A mask validated against the column (ViewValidation).</param>
    /// <param name="type">The column's type.</param>
    /// <param name="hashKey">The grant's own HMAC key, for a HASH mask.</param>
    public ColumnMask(Mask mask, ColumnType type, byte[] hashKey)
    {
        (_mask, _type) = (mask, type);
        _width = mask.Kind == MaskKind.Bucket ? ViewValidation.Width(mask) : 0;
        _hmac = mask.Kind == MaskKind.Hash ? new BatchHmac(hashKey) : null;
    }

    /// <summary>The type the masked values have: a hash is text; every other mask keeps the column's type.</summary>
    public ColumnType OutputType => OutputTypeOf(_mask, _type);

    /// <summary>The type values of a column of type <paramref name="type"/> have under <paramref name="mask"/>.</summary>
    public static ColumnType OutputTypeOf(Mask mask, ColumnType type) => mask.Kind == MaskKind.Hash ? ColumnType.String : type;

    public static void DisposeAll(ColumnMask?[] masks)
    {
        foreach (var mask in masks)
        {
            mask?.Dispose();
        }
    }

    /// <summary>The masked value; valid until the next call.</summary>
    public ReadOnlySpan<char> Apply(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return default;
        }

        return _mask.Kind switch
        {
            MaskKind.Redact => default,
            MaskKind.Hash => Hash(value),
            MaskKind.Truncate => Truncate(value, _mask.Length),
            MaskKind.Generalise => Generalise(value),
            _ => Bucket(value),
        };
    }

    /// <summary>Masks column <paramref name="column"/> of every row of <paramref name="block"/>: a hash mask hashes them together, which costs a fifth of one by one.</summary>
    public void Apply(RowBlock block, int column)
    {
        if (_mask.Kind != MaskKind.Hash)
        {
            for (var row = 0; row < block.Count; row++)
            {
                block.Set(row, column, Apply(block[row, column]));
            }

            return;
        }

        var count = block.Count;
        var bytes = 0;
        for (var row = 0; row < count; row++)
        {
            bytes += Encoding.UTF8.GetMaxByteCount(block[row, column].Length);
        }

        Grow(ref _bytes, bytes);
        Grow(ref _starts, count);
        Grow(ref _lengths, count);
        Grow(ref _macs, 32 * count);
        var used = 0;
        for (var row = 0; row < count; row++)
        {
            _starts[row] = used;
            used += _lengths[row] = Encoding.UTF8.GetBytes(block[row, column], _bytes.AsSpan(used));
        }

        _hmac!.Compute(_bytes, _starts.AsSpan(0, count), _lengths.AsSpan(0, count), _macs);
        Span<char> hex = stackalloc char[64];
        for (var row = 0; row < count; row++)
        {
            // An empty value is null, and stays so.
            if (_lengths[row] > 0)
            {
                Convert.TryToHexStringLower(_macs.AsSpan(32 * row, 32), hex, out _);
                block.Set(row, column, hex);
            }
        }
    }

    public void Dispose() => _hmac?.Dispose();

    private ReadOnlySpan<char> Hash(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Grow(ref _bytes, length);
        Grow(ref _macs, 32);
        Encoding.UTF8.GetBytes(value, _bytes);
        _hmac!.Compute(_bytes, [0], [length], _macs);
        Convert.TryToHexStringLower(_macs.AsSpan(0, 32), _output, out var written);
        return _output.AsSpan(0, written);
    }

    private static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[Math.Max(length, array.Length * 2)];
        }
    }

    /// <summary>The first <paramref name="count"/> characters, counted as Unicode scalar values so a surrogate pair is never split.</summary>
    private static ReadOnlySpan<char> Truncate(ReadOnlySpan<char> value, int count)
    {
        var end = 0;
        for (var kept = 0; kept < count && end < value.Length; kept++)
        {
            Rune.DecodeFromUtf16(value[end..], out _, out var used);
            end += used;
        }

        return value[..end];
    }

    private ReadOnlySpan<char> Generalise(ReadOnlySpan<char> value)
    {
        var year = _mask.Unit == DateUnit.Year;
        if (_type == ColumnType.Date)
        {
            if (!ColumnValues.TryDate(value, out _))
            {
                return default;
            }

            // A valid date is yyyy-MM-dd: its start of month or year is the same text up to there.
            value[..(year ? 4 : 7)].CopyTo(_output);
            (year ? "-01-01" : "-01").CopyTo(_output.AsSpan(year ? 4 : 7));
            return _output.AsSpan(0, 10);
        }

        if (!ColumnValues.TryTimestamp(value, out var time))
        {
            return default;
        }

        var utc = time.UtcDateTime;
        return Write(new DateTime(utc.Year, year ? 1 : utc.Month, 1, 0, 0, 0, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    /// <summary>The start of the value's bucket; null when it is no number of the type or its bucket's start does not fit the type.</summary>
    private ReadOnlySpan<char> Bucket(ReadOnlySpan<char> value)
    {
        try
        {
            switch (_type)
            {
                case ColumnType.Int64 when ColumnValues.TryInt64(value, out var whole):
                    var width = (long)_width;
                    var bucket = whole / width;
                    if (whole % width != 0 && whole < 0)
                    {
                        bucket--;
                    }

                    return Write(checked(bucket * width).ToString(CultureInfo.InvariantCulture));
                case ColumnType.Decimal when ColumnValues.TryDecimal(value, out var fixedPoint):
                    return Write(Floor(fixedPoint).ToString(CultureInfo.InvariantCulture));
                case ColumnType.Double when ColumnValues.TryDouble(value, out var floating) && double.IsFinite(floating):
                    // In decimal where it fits, so 0.3 falls in [0.3, 0.4) of width 0.1 and not in the bucket below.
                    var start = Math.Abs(floating) < 7.9e27 ? (double)Floor((decimal)floating) : Math.Floor(floating / (double)_width) * (double)_width;
                    return Write((start + 0.0).ToString("R", CultureInfo.InvariantCulture));
                default:
                    return default;
            }
        }
        catch (OverflowException)
        {
            return default;
        }
    }

    private decimal Floor(decimal value) => Math.Floor(value / _width) * _width;

    private ReadOnlySpan<char> Write(string text)
    {
        if (_output.Length < text.Length)
        {
            _output = new char[text.Length];
        }

        text.CopyTo(_output);
        return _output.AsSpan(0, text.Length);
    }
}
