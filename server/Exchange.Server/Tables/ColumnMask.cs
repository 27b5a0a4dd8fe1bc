using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// One column's mask, applied to each value as it is delivered. An empty (null) value stays null,
/// and so does one that is not of the column's type where the mask needs the type.
/// </summary>
internal sealed class ColumnMask
{
    private readonly Mask _mask;
    private readonly ColumnType _type;
    private readonly decimal _width;

    // One keyed HMAC for all of a delivery's values: keying it per value would cost more than hashing.
    private readonly IncrementalHash? _hmac;
    private char[] _output = new char[64];

    /// <param name="mask">A mask validated against the column (ViewValidation).</param>
    /// <param name="type">The column's type.</param>
    /// <param name="hashKey">The grant's own HMAC key, for a HASH mask.</param>
    public ColumnMask(Mask mask, ColumnType type, byte[] hashKey)
    {
        (_mask, _type) = (mask, type);
        _width = mask.Kind == MaskKind.Bucket ? ViewValidation.Width(mask) : 0;
        _hmac = mask.Kind == MaskKind.Hash ? IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, hashKey) : null;
    }

    /// <summary>The type the masked values have: a hash is text; every other mask keeps the column's type.</summary>
    public ColumnType OutputType => _mask.Kind == MaskKind.Hash ? ColumnType.String : _type;

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

    private ReadOnlySpan<char> Hash(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var bytes = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
            Encoding.UTF8.GetBytes(value, bytes);
            Span<byte> mac = stackalloc byte[32];
            _hmac!.AppendData(bytes);
            _hmac.GetHashAndReset(mac);
            Convert.TryToHexStringLower(mac, _output, out var written);
            return _output.AsSpan(0, written);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
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
