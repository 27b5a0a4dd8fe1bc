using System.Globalization;
using Exchange.V1;
using Parquet;
using Parquet.Schema;

namespace Exchange.Server.Tables;

/// <summary>
/// Reads a Parquet file (from a seekable stream: its metadata is at its end) row group by row
/// group, holding one row group's values, typed, and making each text when asked for it. Flat
/// columns of strings, integers (unsigned up to 32 bits), floating-point and decimal numbers,
/// booleans, dates and timestamps (taken as UTC) are read; a file with any other column is
/// refused, naming it.
/// </summary>
internal sealed class ParquetTableReader : ITableReader
{
    /// <summary>
    /// The most values (rows times columns) of one row group held at once. A few bytes of a file can
    /// declare millions of null rows, so the row group's own size is no bound; a larger one is refused.
    /// </summary>
    public const long MaxRowGroupValues = 1L << 24;

    private static readonly ParquetOptions Options = new() { UseDateOnlyTypeForDates = true, TreatByteArrayAsString = false };

    private readonly ParquetReader _reader;
    private readonly DataField[] _fields;
    private readonly Func<int, string?>[] _values;
    private readonly long _maxRowGroupValues;
    private string _value = "";
    private int _group = -1;
    private int _rows;
    private int _row;

    public ParquetTableReader(Stream input, long maxRowGroupValues = MaxRowGroupValues)
    {
        _maxRowGroupValues = maxRowGroupValues;
        _reader = ParquetReader.CreateAsync(input, Options, leaveStreamOpen: true).GetAwaiter().GetResult();
        var fields = new List<DataField>();
        var columns = new List<Column>();
        foreach (var field in _reader.Schema.Fields)
        {
            var type = field is DataField { IsArray: false } data ? TypeOf(data) : ColumnType.Unspecified;
            if (type == ColumnType.Unspecified)
            {
                _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw Refusal.Invalid($"Column '{field.Name}' of the Parquet file is of type {Describe(field)}, which a table does not hold " +
                    "(strings, integers, floating-point and decimal numbers, booleans, dates and timestamps)");
            }

            fields.Add((DataField)field);
            columns.Add(new Column { Name = field.Name, Type = type, Nullable = ((DataField)field).IsNullable });
        }

        (_fields, Columns) = ([.. fields], columns);
        _values = new Func<int, string?>[_fields.Length];
    }

    public IReadOnlyList<Column> Columns { get; }

    public ReadOnlySpan<char> this[int column]
    {
        get
        {
            // Formatted on demand: the row group is held as typed values, smaller than their text.
            _value = _values[column](_row) ?? "";
            return _value;
        }
    }

    public bool Read()
    {
        if (++_row < _rows)
        {
            return true;
        }

        while (++_group < _reader.RowGroupCount)
        {
            var group = _reader.OpenRowGroupReader(_group);
            if (group.RowCount * _fields.Length > _maxRowGroupValues)
            {
                throw Refusal.Invalid($"Row group {_group + 1} of the Parquet file holds {group.RowCount} rows of {_fields.Length} columns, " +
                    $"more than the {_maxRowGroupValues} values a row group may have here; write the file with smaller row groups");
            }

            _rows = (int)group.RowCount;
            _row = 0;
            if (_rows > 0)
            {
                LoadAsync(group).GetAwaiter().GetResult();
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Reads every column of the row group, the previous group's values let go first.</summary>
    private async Task LoadAsync(ParquetRowGroupReader group)
    {
        for (var i = 0; i < _fields.Length; i++)
        {
            _values[i] = _ => null;
            var field = _fields[i];
            _values[i] = field.ClrType switch
            {
                var t when t == typeof(string) || t == typeof(ReadOnlyMemory<char>) => await StringsAsync(group, field),
                var t when t == typeof(long) => await TextsAsync<long>(group, field, ColumnValues.Text),
                var t when t == typeof(int) => await TextsAsync<int>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(short) => await TextsAsync<short>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(sbyte) => await TextsAsync<sbyte>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(uint) => await TextsAsync<uint>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(ushort) => await TextsAsync<ushort>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(byte) => await TextsAsync<byte>(group, field, value => ColumnValues.Text(value)),
                var t when t == typeof(double) => await TextsAsync<double>(group, field, ColumnValues.Text),
                // A float's own shortest text, not that of the double it widens to (1.1f, not 1.100000023841858).
                var t when t == typeof(float) => await TextsAsync<float>(group, field, value => value.ToString("R", CultureInfo.InvariantCulture)),
                // With the column's scale, as Arrow's are: Parquet.Net hands decimals out without trailing zeros.
                var t when t == typeof(decimal) && field is DecimalDataField { Scale: var scale } =>
                    await TextsAsync<decimal>(group, field, value => value.ToString($"F{scale}", CultureInfo.InvariantCulture)),
                var t when t == typeof(decimal) => await TextsAsync<decimal>(group, field, ColumnValues.Text),
                var t when t == typeof(bool) => await TextsAsync<bool>(group, field, ColumnValues.Text),
                var t when t == typeof(DateOnly) => await TextsAsync<DateOnly>(group, field, ColumnValues.Text),
                _ => await TextsAsync<DateTime>(group, field, value => ColumnValues.Text(AsUtc(value))),
            };
        }
    }

    private async Task<Func<int, string?>> StringsAsync(ParquetRowGroupReader group, DataField field)
    {
        var values = new string?[_rows];
        await group.ReadAsync(field, values.AsMemory(), null);
        return row => values[row];
    }

    private async Task<Func<int, string?>> TextsAsync<T>(ParquetRowGroupReader group, DataField field, Func<T, string> text)
        where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[_rows];
            await group.ReadAsync(field, nullable.AsMemory(), null);
            return row => nullable[row] is { } value ? text(value) : null;
        }

        var values = new T[_rows];
        await group.ReadAsync(field, values.AsMemory(), null);
        return row => text(values[row]);
    }

    /// <summary>A timestamp without a time zone (or an INT96 one) is taken as UTC, as a CSV's is.</summary>
    private static DateTimeOffset AsUtc(DateTime value) =>
        new(value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static ColumnType TypeOf(DataField field)
    {
        var type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            return ColumnType.String;
        }

        if (type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte) ||
            type == typeof(uint) || type == typeof(ushort) || type == typeof(byte))
        {
            return ColumnType.Int64;
        }

        if (type == typeof(double) || type == typeof(float))
        {
            return ColumnType.Double;
        }

        return type == typeof(decimal) ? ColumnType.Decimal
            : type == typeof(bool) ? ColumnType.Bool
            : type == typeof(DateOnly) ? ColumnType.Date
            : type == typeof(DateTime) ? ColumnType.Timestamp
            : ColumnType.Unspecified;
    }

    private static string Describe(Field field) => field switch
    {
        DataField { IsArray: true } => "list",
        DataField data when data.ClrType == typeof(ReadOnlyMemory<byte>) || data.ClrType == typeof(byte[]) => "binary",
        DataField data => data.ClrType.Name,
        _ => field.SchemaType.ToString().ToLowerInvariant(),
    };
}
