using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Exchange.V1;
using Column = Exchange.V1.Column;
using Schema = Apache.Arrow.Schema;

namespace Exchange.Server.Tables;

/// <summary>
/// Writes rows as an Arrow IPC stream, a record batch per <see cref="RowBatch.Rows"/> rows. Every
/// column is nullable (a value not of its type is null); timestamps are UTC microseconds, dates
/// 32-bit days, decimals 128-bit with precision 38 and the scale of the first batch. The stream
/// holds no time or random id, so the same rows give the same bytes.
/// </summary>
internal sealed class ArrowTableWriter(Stream output, IReadOnlyList<Column> columns) : BatchingTableWriter(columns)
{
    private Schema? _schema;
    private ArrowStreamWriter? _writer;

    public override void Dispose() => _writer?.Dispose();

    protected override void Start()
    {
        _schema = new Schema([.. Columns.Select((column, i) => new Field(column.Name, TypeOf(column.Type, i), nullable: true))], null);
        _writer = new ArrowStreamWriter(output, _schema, leaveOpen: true);
        _writer.WriteStart();
    }

    protected override void Write()
    {
        using var batch = new RecordBatch(_schema!, [.. Columns.Select((_, i) => Array(i))], Batch.Count);
        _writer!.WriteRecordBatch(batch);
    }

    protected override void End() => _writer!.WriteEnd();

    private IArrowType TypeOf(ColumnType type, int column) => type switch
    {
        ColumnType.Int64 => Int64Type.Default,
        ColumnType.Double => DoubleType.Default,
        ColumnType.Decimal => new Decimal128Type(38, Batch.DecimalScale(column)),
        ColumnType.Bool => BooleanType.Default,
        ColumnType.Date => Date32Type.Default,
        ColumnType.Timestamp => new TimestampType(TimeUnit.Microsecond, "UTC"),
        _ => StringType.Default,
    };

    private IArrowArray Array(int column)
    {
        var rows = Batch.Count;
        switch (Columns[column].Type)
        {
            case ColumnType.Int64:
                return Build(new Int64Array.Builder(), Batch.Values<long?>(column).AsSpan(0, rows), (b, v) => b.Append(v), b => b.AppendNull());
            case ColumnType.Double:
                return Build(new DoubleArray.Builder(), Batch.Values<double?>(column).AsSpan(0, rows), (b, v) => b.Append(v), b => b.AppendNull());
            case ColumnType.Decimal:
                var type = (Decimal128Type)_schema!.FieldsList[column].DataType;
                return Build(new Decimal128Array.Builder(type), Batch.Values<decimal?>(column).AsSpan(0, rows),
                    (b, v) => b.Append(Math.Round(v, type.Scale, MidpointRounding.ToEven)), b => b.AppendNull());
            case ColumnType.Bool:
                return Build(new BooleanArray.Builder(), Batch.Values<bool?>(column).AsSpan(0, rows), (b, v) => b.Append(v), b => b.AppendNull());
            case ColumnType.Date:
                return Build(new Date32Array.Builder(), Batch.Values<DateOnly?>(column).AsSpan(0, rows), (b, v) => b.Append(v), b => b.AppendNull());
            case ColumnType.Timestamp:
                var times = new TimestampArray.Builder((TimestampType)_schema!.FieldsList[column].DataType);
                return Build(times, Batch.Values<DateTimeOffset?>(column).AsSpan(0, rows), (b, v) => b.Append(v), b => b.AppendNull());
            default:
                var strings = new StringArray.Builder();
                foreach (var value in Batch.Values<string?>(column).AsSpan(0, rows))
                {
                    strings.Append(value);
                }

                return strings.Build();
        }
    }

    private static IArrowArray Build<TBuilder, T>(TBuilder builder, ReadOnlySpan<T?> values, Action<TBuilder, T> append, Action<TBuilder> appendNull)
        where TBuilder : IArrowArrayBuilder<IArrowArray>
        where T : struct
    {
        foreach (var value in values)
        {
            if (value is { } present)
            {
                append(builder, present);
            }
            else
            {
                appendNull(builder);
            }
        }

        return builder.Build(default);
    }
}
