using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// A table's rows, one at a time, in the order they are stored. Each value is text that
/// <see cref="ColumnValues"/> reads as the column's type (a CSV's as written; Parquet's and
/// Arrow's in the forms ColumnValues documents); empty is null.
/// </summary>
internal interface ITableReader : IDisposable
{
    /// <summary>The columns as stored: names, types and nullability.</summary>
    IReadOnlyList<Column> Columns { get; }

    /// <summary>Moves to the next row; false after the last.</summary>
    bool Read();

    /// <summary>The current row's value of the column at <paramref name="column"/>; empty for null. Valid until the next <see cref="Read"/>.</summary>
    ReadOnlySpan<char> this[int column] { get; }
}
