using System.Buffers;
using System.Text;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// Writes rows as RFC 4180 CSV: a header row, fields quoted only when they hold a comma, quote,
/// CR or LF (quotes doubled), rows ending in LF, UTF-8 without a BOM; deterministic. Written by
/// hand rather than with Sep's writer, whose row is a scoped ref struct that cannot stay open
/// across <see cref="Set"/> calls.
/// </summary>
internal sealed class CsvTableWriter : ITableWriter
{
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");

    private readonly Stream _output;

    // Rows are gathered as text and encoded to UTF-8 a large block at a time.
    private readonly char[] _text = new char[32 * 1024];
    private int _filled;
    private readonly bool[] _set;
    private readonly char[][] _buffers;
    private readonly int[] _lengths;
    private readonly byte[] _bytes = new byte[Encoding.UTF8.GetMaxByteCount(32 * 1024)];

    public CsvTableWriter(Stream output, IReadOnlyList<Column> columns)
    {
        _output = output;
        _set = new bool[columns.Count];
        _buffers = [.. columns.Select(_ => new char[64])];
        _lengths = new int[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            if (i > 0)
            {
                Append(",");
            }

            Field(columns[i].Name);
        }

        Append("\n");
    }

    public void Set(int column, ReadOnlySpan<char> value)
    {
        if (_buffers[column].Length < value.Length)
        {
            _buffers[column] = new char[Math.Max(value.Length, _buffers[column].Length * 2)];
        }

        value.CopyTo(_buffers[column]);
        _lengths[column] = value.Length;
        _set[column] = true;
    }

    public void EndRow()
    {
        for (var i = 0; i < _set.Length; i++)
        {
            if (i > 0)
            {
                Append(",");
            }

            if (_set[i])
            {
                Field(_buffers[i].AsSpan(0, _lengths[i]));
                _set[i] = false;
            }
        }

        Append("\n");
    }

    public void Finish()
    {
        Flush(last: true);
        _output.Flush();
    }

    public void Dispose()
    {
    }

    private void Field(ReadOnlySpan<char> value)
    {
        if (value.IndexOfAny(NeedsQuotes) < 0)
        {
            Append(value);
            return;
        }

        Append("\"");
        foreach (var part in value.Split('"'))
        {
            if (part.Start.Value > 0)
            {
                Append("\"\"");
            }

            Append(value[part]);
        }

        Append("\"");
    }

    private void Append(ReadOnlySpan<char> text)
    {
        while (text.Length > _text.Length - _filled)
        {
            var fits = _text.Length - _filled;
            text[..fits].CopyTo(_text.AsSpan(_filled));
            _filled += fits;
            text = text[fits..];
            Flush();
        }

        text.CopyTo(_text.AsSpan(_filled));
        _filled += text.Length;
    }

    private void Flush(bool last = false)
    {
        // A surrogate pair cut at the block's end is encoded with the next block.
        var end = !last && _filled > 0 && char.IsHighSurrogate(_text[_filled - 1]) ? _filled - 1 : _filled;
        var length = Encoding.UTF8.GetBytes(_text.AsSpan(0, end), _bytes);
        _output.Write(_bytes, 0, length);
        if (end < _filled)
        {
            _text[0] = _text[end];
        }

        _filled -= end;
    }
}
