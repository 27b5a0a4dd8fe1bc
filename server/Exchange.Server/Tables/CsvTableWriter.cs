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
    private readonly bool[] _set;
    private readonly char[][] _buffers;
    private readonly int[] _lengths;
    private byte[] _bytes = new byte[64 * 1024];
    private int _used;

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
        Flush();
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
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_bytes.Length - _used < most)
        {
            Flush();
            if (_bytes.Length < most)
            {
                _bytes = new byte[most];
            }
        }

        _used += Encoding.UTF8.GetBytes(text, _bytes.AsSpan(_used));
    }

    private void Flush()
    {
        _output.Write(_bytes, 0, _used);
        _used = 0;
    }
}
