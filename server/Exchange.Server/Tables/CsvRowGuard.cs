using System.Numerics;
using System.Runtime.Intrinsics;

namespace Exchange.Server.Tables;

/// <summary>
/// Watches a CSV's raw bytes as they arrive for what the parser would have to hold in memory: a
/// row longer than the limit (a quoted field may span lines, so quotes are followed), and a
/// quoted field still open when the bytes end.
/// </summary>
internal struct CsvRowGuard(int maxRowBytes)
{
    private static readonly Vector256<byte> Quotes = Vector256.Create((byte)'"');
    private static readonly Vector256<byte> Newlines = Vector256.Create((byte)'\n');

    private bool _quoted;
    private long _rowBytes;
    private long _row;

    public void Scan(ReadOnlySpan<byte> bytes)
    {
        // Bytes up to here are counted into the current row.
        var counted = 0;
        var at = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 32 bytes at a time, a bit per quote or newline: a search call per mark (three a row of
            // a typical CSV) cost as much as the rest of a CSV's counting.
            for (; at + Vector256<byte>.Count <= bytes.Length; at += Vector256<byte>.Count)
            {
                var block = Vector256.Create(bytes.Slice(at, Vector256<byte>.Count));
                var marks = (Vector256.Equals(block, Quotes) | Vector256.Equals(block, Newlines)).ExtractMostSignificantBits();
                while (marks != 0)
                {
                    var mark = at + BitOperations.TrailingZeroCount(marks);
                    marks &= marks - 1;
                    Mark(bytes[mark], mark + 1 - counted);
                    counted = mark + 1;
                }
            }
        }

        for (; at < bytes.Length; at++)
        {
            if (bytes[at] is (byte)'"' or (byte)'\n')
            {
                Mark(bytes[at], at + 1 - counted);
                counted = at + 1;
            }
        }

        Count(bytes.Length - counted);
    }

    public readonly void End()
    {
        if (_quoted)
        {
            throw Refusal.Invalid($"Row {_row} of the CSV (the header is row 0) opens a quoted field that is never closed; nothing was stored.");
        }
    }

    /// <summary>Counts the bytes up to and including a quote or newline, then follows it.</summary>
    private void Mark(byte mark, int bytes)
    {
        Count(bytes);
        if (mark == '"')
        {
            // A doubled quote inside a quoted field toggles twice: the state stays right.
            _quoted = !_quoted;
        }
        else if (!_quoted)
        {
            _row++;
            _rowBytes = 0;
        }
    }

    private void Count(int bytes)
    {
        _rowBytes += bytes;
        if (_rowBytes > maxRowBytes)
        {
            throw Refusal.Invalid(
                $"Row {_row} of the CSV (the header is row 0) is longer than {maxRowBytes} bytes, the longest row accepted; nothing was stored.");
        }
    }
}
