using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Exchange.V1;
using Column = Exchange.V1.Column;

namespace Exchange.Server.Tables;

/// <summary>
/// Reads Arrow IPC, record batch by record batch: the stream format, or the file format when the
/// stream is seekable and starts with the file format's magic. Flat columns of strings, integers
/// (unsigned up to 32 bits), floating-point and decimal numbers, booleans, dates and timestamps
/// are read; a table with any other column is refused, naming it.
/// </summary>
internal sealed class ArrowTableReader : ITableReader
{
    private static readonly byte[] FileMagic = "ARROW1"u8.ToArray();

    private readonly ArrowStreamReader _reader;
    private RecordBatch? _batch;
    private int _row;
    private string _value = "";

    public ArrowTableReader(Stream input)
    {
        _reader = IsFileFormat(input) ? new ArrowFileReader(input, leaveOpen: true) : new ArrowStreamReader(input, leaveOpen: true);
        try
        {
            Columns = [.. _reader.Schema.FieldsList.Select(ColumnOf)];
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    public IReadOnlyList<Column> Columns { get; }

    public ReadOnlySpan<char> this[int column]
    {
        get
        {
            // Formatted on demand: the batch is held in Arrow's own compact form.
            _value = Text(_batch!.Column(column), _row);
            return _value;
        }
    }

    public bool Read()
    {
        if (_batch is not null && ++_row < _batch.Length)
        {
            return true;
        }

        do
        {
            _batch?.Dispose();
            _batch = _reader.ReadNextRecordBatch();
            _row = 0;
        }
        while (_batch is { Length: 0 });

        return _batch is not null;
    }

    public void Dispose()
    {
        _batch?.Dispose();
        _reader.Dispose();
    }

    private static bool IsFileFormat(Stream input)
    {
        if (!input.CanSeek)
        {
            return false;
        }

        var start = input.Position;
        Span<byte> magic = stackalloc byte[6];
        var read = input.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        input.Position = start;
        return read == magic.Length && magic.SequenceEqual(FileMagic);
    }

    private static Column ColumnOf(Field field) => new()
    {
        Name = field.Name,
        Type = field.DataType.TypeId switch
        {
            ArrowTypeId.String or ArrowTypeId.LargeString or ArrowTypeId.StringView => ColumnType.String,
            ArrowTypeId.Int8 or ArrowTypeId.Int16 or ArrowTypeId.Int32 or ArrowTypeId.Int64 or
                ArrowTypeId.UInt8 or ArrowTypeId.UInt16 or ArrowTypeId.UInt32 => ColumnType.Int64,
            ArrowTypeId.HalfFloat or ArrowTypeId.Float or ArrowTypeId.Double => ColumnType.Double,
            ArrowTypeId.Decimal128 or ArrowTypeId.Decimal256 => ColumnType.Decimal,
            ArrowTypeId.Boolean => ColumnType.Bool,
            ArrowTypeId.Date32 or ArrowTypeId.Date64 => ColumnType.Date,
            ArrowTypeId.Timestamp => ColumnType.Timestamp,
            _ => throw Refusal.Invalid($"Column '{field.Name}' of the Arrow table is of type {field.DataType.Name}, which a table does not hold " +
                "(strings, integers, floating-point and decimal numbers, booleans, dates and timestamps)"),
        },
        Nullable = field.IsNullable,
    };

    private static string Text(IArrowArray array, int row) => array.IsNull(row) ? "" : array switch
    {
        StringArray strings => strings.GetString(row),
        LargeStringArray strings => strings.GetString(row),
        StringViewArray strings => strings.GetString(row),
        Int64Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        Int32Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        Int16Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        Int8Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        UInt32Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        UInt16Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        UInt8Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        DoubleArray values => ColumnValues.Text(values.GetValue(row)!.Value),
        // A float's own shortest text, not that of the double it widens to (1.1, not 1.100000023841858).
        FloatArray values => values.GetValue(row)!.Value.ToString("R", CultureInfo.InvariantCulture),
        HalfFloatArray values => values.GetValue(row)!.Value.ToString("R", CultureInfo.InvariantCulture),
        Decimal128Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        Decimal256Array values => ColumnValues.Text(values.GetValue(row)!.Value),
        BooleanArray values => ColumnValues.Text(values.GetValue(row)!.Value),
        Date32Array values => ColumnValues.Text(values.GetDateOnly(row)!.Value),
        Date64Array values => ColumnValues.Text(values.GetDateOnly(row)!.Value),
        TimestampArray values => ColumnValues.Text(values.GetTimestamp(row)!.Value),
        _ => throw new InvalidOperationException($"An Arrow array of type {array.Data.DataType.Name} was not refused when the schema was read."),
    };
}
