using System.Numerics;
using System.Runtime.InteropServices;
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
        var rowEnd = -1;
        var at = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 64 bytes at a time, without a step per quote (CsvQuotes): only the newlines outside quotes are visited.
            ref var first = ref MemoryMarshal.GetReference(bytes);
            for (; at + 64 <= bytes.Length; at += 64)
            {
                var (low, high) = (Vector256.LoadUnsafe(ref first, (nuint)at), Vector256.LoadUnsafe(ref first, (nuint)at + 32));
                var quotes = Vector256.Equals(low, Quotes).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(high, Quotes).ExtractMostSignificantBits() << 32);
                var newlines = Vector256.Equals(low, Newlines).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(high, Newlines).ExtractMostSignificantBits() << 32);
                var ends = newlines & ~CsvQuotes.Inside(quotes, ref _quoted);

                var rowStart = 0;
                while (ends != 0)
                {
                    var end = BitOperations.TrailingZeroCount(ends);
                    ends &= ends - 1;
                    Count(end + 1 - rowStart);
                    (_row, _rowBytes, rowStart) = (_row + 1, 0, end + 1);
                    rowEnd = at + rowStart;
                }

                Count(64 - rowStart);
            }
        }

        // Bytes from here are counted into the current row.
        var counted = at;
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
