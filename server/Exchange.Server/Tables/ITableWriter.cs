namespace Exchange.Server.Tables;

/// <summary>
/// Encodes rows of a table in one format onto a stream. The same columns and rows always give
/// the same bytes, so a download resumed at an offset continues the same output.
/// </summary>
internal interface ITableWriter : IDisposable
{
    /// <summary>
    /// Sets the current row's value of the column at <paramref name="column"/>, as text
    /// <see cref="ColumnValues"/> reads as the column's type; empty (or a value that does not read
    /// as the type, in a typed format) is null.
    /// </summary>
    void Set(int column, ReadOnlySpan<char> value);

    /// <summary>Ends the current row; columns not set in it are null.</summary>
    void EndRow();

    /// <summary>Writes what is buffered and the format's ending.</summary>
    void Finish();
}
