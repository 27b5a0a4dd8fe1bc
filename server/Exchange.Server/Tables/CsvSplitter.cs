using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Exchange.Server.Tables;

/// <summary>
/// Splits a block of CSV bytes into rows and fields, as UTF-8, without decoding them: the profiler's
/// reading of an upload. Quoting follows the row guard (and Sep, which reads delivered tables): a
/// quote anywhere opens or closes quoting, inside which commas and line breaks are data; a row ends
/// at <c>\n</c>, <c>\r\n</c> or <c>\r</c>; a field starting with a quote is unescaped (its quotes
/// dropped, a doubled quote inside them kept as one). A test holds it to Sep's reading.
/// </summary>
/// <remarks>
/// Sep reads UTF-16, so a profile through it decoded every byte, then hashed and parsed two bytes
/// a character, behind a pipe and a StreamReader: reading the bytes themselves cut the profile's
/// cost inside a busy gateway by about a fifth (README, Benchmarks).
/// </remarks>
internal sealed class CsvSplitter(int keptFields)
{
    private static readonly Vector256<byte> Quotes = Vector256.Create((byte)'"');
    private static readonly Vector256<byte> Commas = Vector256.Create((byte)',');
    private static readonly Vector256<byte> LineFeeds = Vector256.Create((byte)'\n');
    private static readonly Vector256<byte> Returns = Vector256.Create((byte)'\r');

    // Where the fields kept (up to _kept) start and end: field i at i * _stride + _slot, so that rows
    // can be written a column at a time into a batch's arrays (Into).
    private int[] _starts = new int[keptFields];
    private int[] _ends = new int[keptFields];
    private int _kept = keptFields;
    private int _stride = 1;
    private int _slot;
    private byte[] _block = [];
    private byte[] _unescaped = new byte[256];
    private int _length;

    // The commas and line breaks outside quotes (CsvQuotes) of the 32 bytes from _window not yet
    // taken, a bit each; bytes from _scan on are not looked at yet; _quoted: whether quoting is open there.
    private uint _marks;
    private int _window;
    private int _scan;
    private bool _quoted;

    private int _blockStart;
    private int _rowStart;
    private int _skipLineFeed = -1;

    // Lines are counted only when asked for (a refusal names one): the line a block starts on, the
    // rows read from it, and the line breaks inside quotes it holds (each starts a line too).
    private long _blockLine = 1;
    private int _rowsInBlock;
    private long _quotedLineFeeds;

    /// <summary>The number of fields in the current row (all of them, even past those kept).</summary>
    public int Count { get; private set; }

    /// <summary>Where the current row starts in the block.</summary>
    public int RowStart { get; private set; }

    /// <summary>Where the current row ends in the block: its line break, or the end.</summary>
    public int RowEnd { get; private set; }

    /// <summary>The block being read.</summary>
    public byte[] Block => _block;

    /// <summary>The current row's place among the rows of the block (the first is 1).</summary>
    public int RowInBlock => _rowsInBlock;

    /// <summary>The line the current row starts on (the first is 1; a line break inside quotes starts a line too).</summary>
    public long Line => LineOf(_rowsInBlock, RowStart);

    /// <summary>The line on which the block's row <paramref name="rowInBlock"/>, starting at <paramref name="rowStart"/>, starts.</summary>
    public long LineOf(int rowInBlock, int rowStart) =>
        _blockLine + rowInBlock - 1 + QuotedLineFeeds(_block.AsSpan(_blockStart, rowStart - _blockStart));

    /// <summary>Starts on a block of whole rows (the last may lack its line break), from <paramref name="start"/>.</summary>
    public void Reset(byte[] block, int start, int length)
    {
        _blockLine += _rowsInBlock + _quotedLineFeeds;
        (_block, _length, _blockStart, _rowStart, _scan, _marks, _skipLineFeed) = (block, length, start, start, start, 0, -1);
        (_rowsInBlock, _quotedLineFeeds, _quoted) = (0, 0, false);
    }

    /// <summary>From now on, keeps the first <paramref name="kept"/> fields of each row in these arrays, field i of a row at i * <paramref name="stride"/> + the row's slot.</summary>
    public void Into(int[] starts, int[] ends, int kept, int stride) => (_starts, _ends, _kept, _stride) = (starts, ends, kept, stride);

    /// <summary>Moves to the next row of the block, kept in <paramref name="slot"/> (see <see cref="Into"/>); false when the block has no more.</summary>
    public bool Next(int slot = 0)
    {
        _slot = slot;
        // The state in locals while the row is read: the JIT keeps them in registers, fields it
        // would load and store at every mark (the arrays written could alias them, as far as it knows).
        var (block, length, marks, window) = (_block, _length, _marks, _window);
        var (starts, ends, kept, stride) = (_starts, _ends, _kept, _stride);
        var (rowStart, count, at) = (_rowStart, 0, _slot);
        var fieldStart = rowStart;
        while (true)
        {
            while (marks == 0)
            {
                if (rowStart >= length)
                {
                    (_marks, _rowStart) = (0, rowStart);
                    Count = 0;
                    return false;
                }

                if (_scan >= length)
                {
                    // The last row, without a line break.
                    Keep(starts, ends, count++ < kept, ref at, stride, fieldStart, length);
                    (_marks, _rowStart) = (0, length);
                    return Row(rowStart, length, count);
                }

                window = _scan;
                marks = Scan(block, window, length);
            }

            var position = window + BitOperations.TrailingZeroCount(marks);
            marks &= marks - 1;
            var mark = block[position];
            if (mark == ',')
            {
                Keep(starts, ends, count++ < kept, ref at, stride, fieldStart, position);
                fieldStart = position + 1;
                continue;
            }

            if (mark == '\n' && position == _skipLineFeed)
            {
                // The second half of a \r\n, which the \r already ended.
                rowStart = fieldStart = position + 1;
                continue;
            }

            Keep(starts, ends, count++ < kept, ref at, stride, fieldStart, position);
            (_marks, _window, _rowStart, _skipLineFeed) = (marks, window, position + 1, mark == '\r' ? position + 1 : -1);
            return Row(rowStart, position, count);
        }
    }

    private bool Row(int start, int end, int count)
    {
        (RowStart, RowEnd, Count) = (start, end, count);
        _rowsInBlock++;
        return true;
    }

    /// <summary>Keeps a field at <paramref name="at"/> in the arrays if it is among those kept, and moves <paramref name="at"/> to the next field's place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep(int[] starts, int[] ends, bool keep, ref int at, int stride, int start, int end)
    {
        if (keep)
        {
            starts[at] = start;
            ends[at] = end;
            at += stride;
        }
    }

    /// <summary>The marks of the (up to) 32 bytes from <paramref name="at"/>; moves the scan past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Scan(byte[] block, int at, int length)
    {
        uint quotes, lineFeeds, others;
        if (Vector256.IsHardwareAccelerated && at + Vector256<byte>.Count <= length)
        {
            var bytes = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(block), (nuint)at);
            quotes = Vector256.Equals(bytes, Quotes).ExtractMostSignificantBits();
            lineFeeds = Vector256.Equals(bytes, LineFeeds).ExtractMostSignificantBits();
            others = (Vector256.Equals(bytes, Commas) | Vector256.Equals(bytes, Returns)).ExtractMostSignificantBits();
            _scan = at + Vector256<byte>.Count;
        }
        else
        {
            (quotes, lineFeeds, others) = (0, 0, 0);
            var end = Math.Min(length, at + 32);
            for (var i = at; i < end; i++)
            {
                var bit = 1u << (i - at);
                quotes |= block[i] == '"' ? bit : 0;
                lineFeeds |= block[i] == '\n' ? bit : 0;
                others |= block[i] is (byte)',' or (byte)'\r' ? bit : 0;
            }

            _scan = end;
        }

        var quoted = (uint)CsvQuotes.Inside(quotes, ref _quoted);
        _quotedLineFeeds += BitOperations.PopCount(lineFeeds & quoted);
        return (lineFeeds | others) & ~quoted;
    }

    /// <summary>The line feeds inside quotes in <paramref name="rows"/>, which start outside quotes.</summary>
    private static int QuotedLineFeeds(ReadOnlySpan<byte> rows)
    {
        var (quoted, count) = (false, 0);
        foreach (var b in rows)
        {
            quoted ^= b == '"';
            count += quoted && b == '\n' ? 1 : 0;
        }

        return count;
    }

    /// <summary>Field <paramref name="index"/> of the current row, unescaped; valid until the next call.</summary>
    public ReadOnlySpan<byte> Field(int index)
    {
        var at = (index * _stride) + _slot;
        return Unescaped(_block.AsSpan(_starts[at], _ends[at] - _starts[at]), ref _unescaped);
    }

    /// <summary><paramref name="raw"/>, a field as written, unescaped: in place, or in <paramref name="scratch"/>; valid until its next use.</summary>
    // Inlined: every value the profile counts passes here, and nearly all are not quoted.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Unescaped(ReadOnlySpan<byte> raw, ref byte[] scratch) =>
        raw.IsEmpty || raw[0] != '"' ? raw : Unquoted(raw, ref scratch);

    private static ReadOnlySpan<byte> Unquoted(ReadOnlySpan<byte> raw, ref byte[] scratch)
    {
        // Most quoted fields are quoted only for a comma or line break inside: one closing quote, last.
        if (raw.Length >= 2 && raw[^1] == '"' && raw[1..^1].IndexOf((byte)'"') < 0)
        {
            return raw[1..^1];
        }

        if (scratch.Length < raw.Length)
        {
            scratch = new byte[Math.Max(raw.Length, scratch.Length * 2)];
        }

        // The opening quote is dropped; after it each quote closes quoting (dropped) or reopens it
        // (kept): so a doubled quote inside quotes is one quote, and a quote after a closed one is data.
        var length = 0;
        var quoted = true;
        foreach (var b in raw[1..])
        {
            if (b != '"' || !quoted)
            {
                scratch[length++] = b;
            }

            quoted = b == '"' ? !quoted : quoted;
        }

        return scratch.AsSpan(0, length);
    }
}
