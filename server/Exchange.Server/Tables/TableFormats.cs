using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>The table formats: which uploads are tables (by the media type the provider gives), and each format's reader and writer.</summary>
internal static class TableFormats
{
    /// <summary>The table format <paramref name="mediaType"/> names (parameters such as <c>; charset=utf-8</c> aside), or UNSPECIFIED for opaque bytes.</summary>
    public static TableFormat Of(string mediaType)
    {
        var type = mediaType.Split(';', 2)[0].Trim();
        return type.ToLowerInvariant() switch
        {
            "text/csv" => TableFormat.Csv,
            "application/vnd.apache.parquet" or "application/x-parquet" => TableFormat.Parquet,
            "application/vnd.apache.arrow.stream" or "application/vnd.apache.arrow.file" => TableFormat.ArrowIpc,
            _ => TableFormat.Unspecified,
        };
    }

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
