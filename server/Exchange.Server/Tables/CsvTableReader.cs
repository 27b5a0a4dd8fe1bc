using System.Text;
using Exchange.V1;
using nietras.SeparatedValues;

namespace Exchange.Server.Tables;

/// <summary>
/// A stored CSV table's rows (Sep), for delivery: it was read whole on upload, so its shape is
/// known; a row with fewer fields than the header has nulls for the rest, extra fields are
/// ignored (such rows are counted in the quality report).
/// </summary>
internal sealed class CsvTableReader : ITableReader
{
    private readonly StreamReader _text;
    private readonly SepReader _reader;
    private readonly int _width;

    public CsvTableReader(Stream csv, IReadOnlyList<Column> columns)
    {
        Columns = columns;
        _width = columns.Count;
        _text = new StreamReader(csv, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
        _reader = Sep.New(',').Reader(options => options with
        {
            HasHeader = true,
            Unescape = true,
            DisableColCountCheck = true,
            CultureInfo = System.Globalization.CultureInfo.InvariantCulture,
        }).From(_text);
    }

    public IReadOnlyList<Column> Columns { get; }

    public bool Read() => _reader.MoveNext();

    public ReadOnlySpan<char> this[int column]
    {
        get
        {
            var row = _reader.Current;
            return column < row.ColCount && column < _width ? row[column].Span : default;
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _text.Dispose();
    }
}
