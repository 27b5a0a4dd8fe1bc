using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// A writer of a typed format that writes rows a <see cref="RowBatch"/> at a time: the format's
/// start once the first batch is in (its values decide the decimal scales), each full batch, and
/// on <see cref="Finish"/> the last batch and the format's end. An empty table is a start and an end.
/// </summary>
internal abstract class BatchingTableWriter(IReadOnlyList<Column> columns) : ITableWriter
{
    private bool _started;

    protected IReadOnlyList<Column> Columns => columns;

    protected RowBatch Batch { get; } = new(columns);

    public void Set(int column, ReadOnlySpan<char> value) => Batch.Set(column, value);

    public void EndRow()
    {
        Batch.EndRow();
        if (Batch.IsFull)
        {
            Flush();
        }
    }

    public void Finish()
    {
        Flush();
        End();
    }

    public abstract void Dispose();

    /// <summary>Writes the format's start (schema); <see cref="Batch"/> holds the first rows, if any.</summary>
    protected abstract void Start();

    /// <summary>Writes the rows in <see cref="Batch"/>.</summary>
    protected abstract void Write();

    /// <summary>Writes the format's end (footer).</summary>
    protected abstract void End();

    private void Flush()
    {
        if (!_started)
        {
            Start();
            _started = true;
        }

        if (Batch.Count > 0)
        {
            Write();
            Batch.Clear();
        }
    }
}
