using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>The reader and writer of each table format.</summary>
internal static class TableIo
{
    public static ITableReader Reader(TableFormat format, Stream stored, IReadOnlyList<Column> columns) => format switch
    {
        TableFormat.Csv => new CsvTableReader(stored, columns),
        _ => throw Refusal.Precondition($"Tables stored as {format} cannot be read for delivery yet."),
    };

    public static ITableWriter Writer(TableFormat format, Stream output, IReadOnlyList<Column> columns) => format switch
    {
        TableFormat.Csv => new CsvTableWriter(output, columns),
        _ => throw Refusal.Precondition($"Tables cannot be delivered as {format} yet."),
    };
}
