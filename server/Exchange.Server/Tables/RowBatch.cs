using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// Rows on their way into a typed format (a Parquet row group, an Arrow record batch): each value
/// parsed as its column's type when set, so a batch holds typed arrays of a fixed number of rows.
/// A value that does not read as the type is null, like an empty one.
/// </summary>
internal sealed class RowBatch
{
    /// <summary>Rows per row group or record batch: bounds a writer's memory, and fixed so the output is too.</summary>
    public const int Rows = 65_536;

    /// <summary>Characters of text a batch holds at most (64 MiB): long strings end a batch early, still at the same row every time.</summary>
    public const long MaxChars = 32L * 1024 * 1024;

    /// <summary>
    /// The most fractional digits a decimal column is written with: with a precision of 38, any
    /// .NET decimal's whole part then fits. Finer digits are rounded.
    /// </summary>
    public const int MaxDecimalScale = 10;

    private readonly IReadOnlyList<Column> _columns;
    private readonly Array[] _values;

    public RowBatch(IReadOnlyList<Column> columns)
    {
        _columns = columns;
        _values = [.. columns.Select(column => Allocate(column.Type))];
    }

    public IReadOnlyList<Column> Columns => _columns;

    /// <summary>The rows ended so far.</summary>
    public int Count { get; private set; }

    public bool IsFull => Count == Rows || _chars >= MaxChars;

    private long _chars;

    public void Set(int column, ReadOnlySpan<char> text)
    {
        var row = Count;
        switch (_columns[column].Type)
        {
            case ColumnType.Int64:
                Values<long?>(column)[row] = ColumnValues.TryInt64(text, out var integer) ? integer : null;
                break;
            case ColumnType.Double:
                Values<double?>(column)[row] = ColumnValues.TryDouble(text, out var floating) ? floating : null;
                break;
            case ColumnType.Decimal:
                Values<decimal?>(column)[row] = ColumnValues.TryDecimal(text, out var fixedPoint) ? fixedPoint : null;
                break;
            case ColumnType.Bool:
                Values<bool?>(column)[row] = ColumnValues.TryBool(text, out var flag) ? flag : null;
                break;
            case ColumnType.Date:
                Values<DateOnly?>(column)[row] = ColumnValues.TryDate(text, out var date) ? date : null;
                break;
            case ColumnType.Timestamp:
                Values<DateTimeOffset?>(column)[row] = ColumnValues.TryTimestamp(text, out var time) ? time : null;
                break;
            default:
                Values<string?>(column)[row] = text.IsEmpty ? null : text.ToString();
                _chars += text.Length;
                break;
        }
    }

    public void EndRow() => Count++;

    /// <summary>Empties the batch for the next rows (every value null again).</summary>
    public void Clear()
    {
        foreach (var values in _values)
        {
            Array.Clear(values);
        }

        Count = 0;
        _chars = 0;
    }

    /// <summary>The column's values (the first <see cref="Count"/> of them are the rows').</summary>
    public T[] Values<T>(int column) => (T[])_values[column];

    /// <summary>
    /// The fractional digits to write a decimal column with: as many as the column's profile says
    /// its values have (<see cref="Column.Scale"/>), or its values here need, at most
    /// <see cref="MaxDecimalScale"/>. Decided on a writer's first batch, so later ones are rounded to it.
    /// </summary>
    public int DecimalScale(int column)
    {
        var scale = _columns[column].Scale;
        foreach (var value in Values<decimal?>(column).AsSpan(0, Count))
        {
            scale = Math.Max(scale, value?.Scale ?? 0);
        }

        return Math.Min(scale, MaxDecimalScale);
    }

    private static Array Allocate(ColumnType type) => type switch
    {
        ColumnType.Int64 => new long?[Rows],
        ColumnType.Double => new double?[Rows],
        ColumnType.Decimal => new decimal?[Rows],
        ColumnType.Bool => new bool?[Rows],
        ColumnType.Date => new DateOnly?[Rows],
        ColumnType.Timestamp => new DateTimeOffset?[Rows],
        _ => new string?[Rows],
    };
}
