using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// A view applied to one table: which of its columns go out, in which order and under which mask,
/// and which rows. Built once per delivery from a view that fits the table (ViewValidation).
/// </summary>
internal sealed class ViewPlan
{
    private readonly int[] _sources;
    private readonly ColumnMask?[] _masks;
    private readonly Func<ColumnMask?[]> _newMasks;
    private readonly RowFilter? _filter;

    /// <param name="view">The grant's view; null delivers every row and column unchanged.</param>
    /// <param name="columns">The table's columns.</param>
    /// <param name="hashKey">The grant's own key for HASH masks.</param>
    public ViewPlan(View? view, IReadOnlyList<Column> columns, byte[] hashKey)
    {
        var names = columns.Select(c => c.Name).ToList();
        _sources = view is null || view.Columns.Count == 0 ? [.. Enumerable.Range(0, columns.Count)] : [.. view.Columns.Select(c => names.IndexOf(c))];
        _newMasks = () => [.. _sources.Select(i => view?.Masks.FirstOrDefault(m => m.Column == names[i]) is { } mask
            ? new ColumnMask(mask, columns[i].Type, hashKey)
            : null)];
        _masks = _newMasks();
        _filter = view?.RowFilter is { } filter ? new RowFilter(filter, columns) : null;
        Columns = [.. _sources.Select((source, i) => _masks[i] is { } m
            ? new Column { Name = columns[source].Name, Type = m.OutputType, Nullable = true }
            : columns[source].Clone())];
    }

    /// <summary>The columns delivered, as their values are after masking.</summary>
    public IReadOnlyList<Column> Columns { get; }

    /// <summary>Writes the current row of <paramref name="row"/> to <paramref name="writer"/> when the view delivers it.</summary>
    public void Deliver(ITableReader row, ITableWriter writer)
    {
        if (!Includes(row))
        {
            return;
        }

        for (var i = 0; i < _sources.Length; i++)
        {
            Set(writer, i, row[_sources[i]]);
        }

        writer.EndRow();
    }

    /// <summary>Whether the view delivers the current row of <paramref name="row"/>.</summary>
    public bool Includes(ITableReader row) => _filter is null || _filter.Includes(row);

    /// <summary>The table's column that delivered column <paramref name="column"/> comes from.</summary>
    public int Source(int column) => _sources[column];

    /// <summary>Sets delivered column <paramref name="column"/> to <paramref name="value"/> (the table's, unmasked) as the view delivers it.</summary>
    public void Set(ITableWriter writer, int column, ReadOnlySpan<char> value) => writer.Set(column, _masks[column] is { } mask ? mask.Apply(value) : value);

    /// <summary>A second set of the view's masks (by delivered column; null: unmasked), for another thread: a mask keeps state between values.</summary>
    public ColumnMask?[] NewMasks() => _newMasks();
}
