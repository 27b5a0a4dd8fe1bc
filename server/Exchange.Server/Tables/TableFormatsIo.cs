using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>The reader and writer of each table format.</summary>
internal static class TableFormatsIo
{
    /// <summary>
    /// A reader of <paramref name="input"/>; Parquet needs it seekable, Arrow's file format too. A
    /// CSV has no types of its own: its stored <paramref name="columns"/> give them (an upload's CSV
    /// is read by its own profiler as it streams).
    /// </summary>
    public static ITableReader Reader(TableFormat format, Stream input, IReadOnlyList<Column>? columns = null) => format switch
    {
        TableFormat.Csv when columns is not null => new CsvTableReader(input, columns),
        TableFormat.Parquet => new ParquetTableReader(input),
        TableFormat.ArrowIpc => new ArrowTableReader(input),
        _ => throw new NotSupportedException($"No table reader for {format} here."),
    };

    /// <summary>A writer of <paramref name="columns"/> onto <paramref name="output"/>, which it leaves open.</summary>
    public static ITableWriter Writer(TableFormat format, Stream output, IReadOnlyList<Column> columns) => format switch
    {
        TableFormat.Csv => new CsvTableWriter(output, columns),
        TableFormat.Parquet => new ParquetTableWriter(output, columns),
        TableFormat.ArrowIpc => new ArrowTableWriter(output, columns),
        _ => throw new NotSupportedException($"No table writer for {format} here."),
    };

    /// <summary>The format's name in messages.</summary>
    public static string Name(TableFormat format) => format switch
    {
        TableFormat.Csv => "CSV",
        TableFormat.Parquet => "Parquet",
        TableFormat.ArrowIpc => "Arrow IPC",
        _ => format.ToString(),
    };
}
