using Exchange.V1;
using Parquet;
using Parquet.Schema;

namespace Exchange.Server.Tables;

/// <summary>
/// Writes rows as Parquet, a row group per <see cref="RowBatch.Rows"/> rows, Snappy-compressed.
/// Every column is optional (a value not of its type is null); timestamps are UTC microseconds,
/// decimals have precision 38 and the scale of the first row group. Parquet.Net writes no time
/// or random id (created_by names only its version), so the same rows give the same bytes.
/// </summary>
internal sealed class ParquetTableWriter(Stream output, IReadOnlyList<Column> columns) : BatchingTableWriter(columns)
{
    private DataField[] _fields = [];
    private ParquetWriter? _writer;

    public override void Dispose() => _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    protected override void Start()
    {
        _fields = [.. Columns.Select((column, i) => Field(column, i))];
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy, UseDateOnlyTypeForDates = true };
        _writer = ParquetWriter.CreateAsync(new ParquetSchema(_fields), output, options).GetAwaiter().GetResult();
    }

    protected override void Write() => WriteAsync().GetAwaiter().GetResult();

    protected override void End()
    {
        // Disposing writes the footer.
        _writer!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _writer = null;
    }

    private async Task WriteAsync()
    {
        using var group = _writer!.CreateRowGroup();
        for (var i = 0; i < Columns.Count; i++)
        {
            await WriteAsync(group, i);
        }

        group.CompleteValidate();
    }

    private Task WriteAsync(ParquetRowGroupWriter group, int column)
    {
        var field = _fields[column];
        var rows = Batch.Count;
        return Columns[column].Type switch
        {
            ColumnType.Int64 => group.WriteAsync(field, Rows<long?>(column)),
            ColumnType.Double => group.WriteAsync(field, Rows<double?>(column)),
            ColumnType.Decimal => group.WriteAsync(field, Rounded(Batch.Values<decimal?>(column).AsSpan(0, rows), ((DecimalDataField)field).Scale)),
            ColumnType.Bool => group.WriteAsync(field, Rows<bool?>(column)),
            ColumnType.Date => group.WriteAsync(field, Rows<DateOnly?>(column)),
            ColumnType.Timestamp => group.WriteAsync(field, Utc(Batch.Values<DateTimeOffset?>(column).AsSpan(0, rows))),
            _ => group.WriteAsync(field, new ArraySegment<string?>(Batch.Values<string?>(column), 0, rows)!),
        };
    }

    private ReadOnlyMemory<T> Rows<T>(int column) => new(Batch.Values<T>(column), 0, Batch.Count);

    private DataField Field(Column column, int index) => column.Type switch
    {
        ColumnType.Int64 => new DataField<long?>(column.Name),
        ColumnType.Double => new DataField<double?>(column.Name),
        ColumnType.Decimal => new DecimalDataField(column.Name, 38, Batch.DecimalScale(index), isNullable: true),
        ColumnType.Bool => new DataField<bool?>(column.Name),
        ColumnType.Date => new DataField<DateOnly?>(column.Name),
        ColumnType.Timestamp => new DateTimeDataField(column.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, DateTimeTimeUnit.Micros, isNullable: true),
        _ => new DataField<string>(column.Name, nullable: true),
    };

    private static ReadOnlyMemory<decimal?> Rounded(ReadOnlySpan<decimal?> values, int scale)
    {
        var rounded = new decimal?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            rounded[i] = values[i] is { } value ? Math.Round(value, scale, MidpointRounding.ToEven) : null;
        }

        return rounded;
    }

    private static ReadOnlyMemory<DateTime?> Utc(ReadOnlySpan<DateTimeOffset?> values)
    {
        var times = new DateTime?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            times[i] = values[i]?.UtcDateTime;
        }

        return times;
    }
}
