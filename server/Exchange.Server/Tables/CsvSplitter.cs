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

    private readonly int[] _starts = new int[keptFields];
    private readonly int[] _ends = new int[keptFields];
    private byte[] _block = [];
    private byte[] _unescaped = new byte[256];
    private int _length;

    // The marks (quotes, commas, line breaks) of the 32 bytes from _window not yet taken, a bit each;
    // bytes from _scan on are not looked at yet.
    private uint _marks;
    private int _window;
    private int _scan;

    private int _rowStart;
    private int _skipLineFeed = -1;
    private bool _quoted;
    private long _nextLine = 1;

    /// <summary>The number of fields in the current row (all of them, even past those kept).</summary>
    public int Count { get; private set; }

    /// <summary>The line the current row starts on (the first is 1; a line break inside quotes starts a line too).</summary>
    public long Line { get; private set; }

    /// <summary>Where the current row ends in the block: its line break, or the end.</summary>
    public int RowEnd { get; private set; }

    /// <summary>Starts on a block of whole rows (the last may lack its line break), from <paramref name="start"/>.</summary>
    public void Reset(byte[] block, int start, int length)
    {
        (_block, _length, _rowStart, _scan, _marks, _skipLineFeed) = (block, length, start, start, 0, -1);
    }

    /// <summary>Moves to the next row of the block; false when the block has no more.</summary>
    public bool Next()
    {
        Count = 0;
        var fieldStart = _rowStart;
        var quotedLines = 0;
        while (_rowStart < _length)
        {
            if (!NextMark(out var at))
            {
                // The last row, without a line break.
                End(fieldStart, _length, quotedLines);
                _rowStart = _length;
                return true;
            }

            var mark = _block[at];
            if (_quoted)
            {
                _quoted = mark != '"';
                quotedLines += mark == '\n' ? 1 : 0;
                continue;
            }

            switch (mark)
            {
                case (byte)'"':
                    _quoted = true;
                    continue;
                case (byte)',':
                    Keep(fieldStart, at);
                    fieldStart = at + 1;
                    continue;
                case (byte)'\n' when at == _skipLineFeed:
                    // The second half of a \r\n, which the \r already ended.
                    _rowStart = fieldStart = at + 1;
                    continue;
                default:
                    End(fieldStart, at, quotedLines);
                    _rowStart = at + 1;
                    _skipLineFeed = mark == '\r' ? at + 1 : -1;
                    return true;
            }
        }

        return false;
    }

    /// <summary>Field <paramref name="index"/> of the current row, unescaped; valid until the next call.</summary>
    public ReadOnlySpan<byte> Field(int index)
    {
        var raw = _block.AsSpan(_starts[index], _ends[index] - _starts[index]);
        return raw.IsEmpty || raw[0] != '"' ? raw : Unescape(raw);
    }

    private void End(int fieldStart, int end, int quotedLines)
    {
        Keep(fieldStart, end);
        RowEnd = end;
        Line = _nextLine;
        _nextLine += 1 + quotedLines;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Keep(int start, int end)
    {
        if (Count < _starts.Length)
        {
            _starts[Count] = start;
            _ends[Count] = end;
        }

        Count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NextMark(out int at)
    {
        while (_marks == 0)
        {
            if (_scan >= _length)
            {
                at = -1;
                return false;
            }

            _window = _scan;
            if (Vector256.IsHardwareAccelerated && _scan + Vector256<byte>.Count <= _length)
            {
                var bytes = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(_block), (nuint)_scan);
                _marks = (Vector256.Equals(bytes, Quotes) | Vector256.Equals(bytes, Commas) | Vector256.Equals(bytes, LineFeeds)
                    | Vector256.Equals(bytes, Returns)).ExtractMostSignificantBits();
                _scan += Vector256<byte>.Count;
            }
            else
            {
                _marks = _block[_scan] is (byte)'"' or (byte)',' or (byte)'\n' or (byte)'\r' ? 1u : 0u;
                _scan++;
            }
        }

        at = _window + BitOperations.TrailingZeroCount(_marks);
        _marks &= _marks - 1;
        return true;
    }

    private ReadOnlySpan<byte> Unescape(ReadOnlySpan<byte> raw)
    {
        // Most quoted fields are quoted only for a comma or line break inside: one closing quote, last.
        if (raw.Length >= 2 && raw[^1] == '"' && raw[1..^1].IndexOf((byte)'"') < 0)
        {
            return raw[1..^1];
        }

        if (_unescaped.Length < raw.Length)
        {
            _unescaped = new byte[Math.Max(raw.Length, _unescaped.Length * 2)];
        }

        // The opening quote is dropped; after it each quote closes quoting (dropped) or reopens it
        // (kept): so a doubled quote inside quotes is one quote, and a quote after a closed one is data.
        var length = 0;
        var quoted = true;
        foreach (var b in raw[1..])
        {
            if (b != '"' || !quoted)
            {
                _unescaped[length++] = b;
            }

            quoted = b == '"' ? !quoted : quoted;
        }

        return _unescaped.AsSpan(0, length);
    }
}
