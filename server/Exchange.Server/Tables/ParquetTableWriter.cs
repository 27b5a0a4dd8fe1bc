using Exchange.V1;
using Parquet;
using Parquet.Schema;

namespace Exchange.Server.Tables;

/// <summary>
/// Writes rows as Parquet, a row group per <see cref="RowBatch.Rows"/> rows, Snappy-compressed.
/// Every column is optional (a value not of its type is null); timestamps are UTC microseconds,
/// decimals have precision 38 and the scale of the first row group. Parquet.Net writes no time
/// or random id, so the same rows give the same bytes.
/// </summary>
internal sealed class ParquetTableWriter(Stream output, IReadOnlyList<Column> columns) : ITableWriter
{
    private readonly RowBatch _batch = new(columns);
    private DataField[]? _fields;
    private ParquetWriter? _writer;

    public void Set(int column, ReadOnlySpan<char> value) => _batch.Set(column, value);

    public void EndRow()
    {
        _batch.EndRow();
        if (_batch.IsFull)
        {
            Flush();
        }
    }

    public void Finish()
    {
        if (_batch.Count > 0 || _writer is null)
        {
            Flush();
        }

        // Disposing writes the footer.
        _writer!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _writer = null;
    }

    public void Dispose() => _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Writes the batch as a row group (an empty table: none), the file's start first.</summary>
    private void Flush() => FlushAsync().GetAwaiter().GetResult();

    private async Task FlushAsync()
    {
        if (_writer is null)
        {
            _fields = [.. columns.Select((column, i) => Field(column, i))];
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy, UseDateOnlyTypeForDates = true };
            _writer = await ParquetWriter.CreateAsync(new ParquetSchema(_fields), output, options);
        }

        if (_batch.Count == 0)
        {
            return;
        }

        using (var group = _writer.CreateRowGroup())
        {
            for (var i = 0; i < columns.Count; i++)
            {
                await WriteAsync(group, i);
            }

            group.CompleteValidate();
        }

        _batch.Clear();
    }

    private Task WriteAsync(ParquetRowGroupWriter group, int column)
    {
        var field = _fields![column];
        var rows = _batch.Count;
        return columns[column].Type switch
        {
            ColumnType.Int64 => group.WriteAsync(field, Rows<long?>(column)),
            ColumnType.Double => group.WriteAsync(field, Rows<double?>(column)),
            ColumnType.Decimal => group.WriteAsync(field, Rounded(_batch.Values<decimal?>(column).AsSpan(0, rows), ((DecimalDataField)field).Scale)),
            ColumnType.Bool => group.WriteAsync(field, Rows<bool?>(column)),
            ColumnType.Date => group.WriteAsync(field, Rows<DateOnly?>(column)),
            ColumnType.Timestamp => group.WriteAsync(field, Utc(_batch.Values<DateTimeOffset?>(column).AsSpan(0, rows))),
            _ => group.WriteAsync(field, new ArraySegment<string?>(_batch.Values<string?>(column), 0, rows)!),
        };
    }

    private ReadOnlyMemory<T> Rows<T>(int column) => new(_batch.Values<T>(column), 0, _batch.Count);

    private DataField Field(Column column, int index) => column.Type switch
    {
        ColumnType.Int64 => new DataField<long?>(column.Name),
        ColumnType.Double => new DataField<double?>(column.Name),
        ColumnType.Decimal => new DecimalDataField(column.Name, 38, _batch.DecimalScale(index), isNullable: true),
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
