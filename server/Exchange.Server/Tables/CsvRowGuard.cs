using System.Numerics;
using System.Runtime.Intrinsics;

namespace Exchange.Server.Tables;

/// <summary>
/// Watches a CSV's raw bytes as they arrive for what the parser would have to hold in memory: a
/// row longer than the limit (a quoted field may span lines, so quotes are followed), and a
/// quoted field still open when the bytes end. It also tells where the last row of each piece
/// ends, so the profiler can be handed whole rows.
/// </summary>
internal struct CsvRowGuard(int maxRowBytes)
{
    private static readonly Vector256<byte> Quotes = Vector256.Create((byte)'"');
    private static readonly Vector256<byte> Newlines = Vector256.Create((byte)'\n');

    private bool _quoted;
    private long _rowBytes;
    private long _row;

    /// <summary>Follows the next bytes; returns the offset just past the last row they end (its newline), or -1 if they end none.</summary>
    public int Scan(ReadOnlySpan<byte> bytes)
    {
        // Bytes up to here are counted into the current row.
        var counted = 0;
        var rowEnd = -1;
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
                    rowEnd = Mark(bytes[mark], mark + 1 - counted) ? mark + 1 : rowEnd;
                    counted = mark + 1;
                }
            }
        }

        for (; at < bytes.Length; at++)
        {
            if (bytes[at] is (byte)'"' or (byte)'\n')
            {
                rowEnd = Mark(bytes[at], at + 1 - counted) ? at + 1 : rowEnd;
                counted = at + 1;
            }
        }

        Count(bytes.Length - counted);
        return rowEnd;
    }

    public readonly void End()
    {
        if (_quoted)
        {
            throw Refusal.Invalid($"Row {_row} of the CSV (the header is row 0) opens a quoted field that is never closed; nothing was stored.");
        }
    }

    /// <summary>Counts the bytes up to and including a quote or newline, then follows it; true when it ended a row.</summary>
    private bool Mark(byte mark, int bytes)
    {
        Count(bytes);
        if (mark == '"')
        {
            // A doubled quote inside a quoted field toggles twice: the state stays right.
            _quoted = !_quoted;
            return false;
        }

        if (_quoted)
        {
            return false;
        }

        _row++;
        _rowBytes = 0;
        return true;
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
