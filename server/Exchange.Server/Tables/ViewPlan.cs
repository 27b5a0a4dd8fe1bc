using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// A view applied to one table: which of its columns go out, in which order and under which mask,
/// and which rows. Built once per delivery from a view that fits the table (ViewValidation).
/// </summary>
internal sealed class ViewPlan
{
    private readonly int[] _sources;
    private readonly Mask?[] _masks;
    private readonly ColumnType[] _types;
    private readonly byte[] _hashKey;
    private readonly RowFilter? _filter;

    /// <param name="view">The grant's view; null delivers every row and column unchanged.</param>
    /// <param name="columns">The table's columns.</param>
    /// <param name="hashKey">The grant's own key for HASH masks.</param>
    public ViewPlan(View? view, IReadOnlyList<Column> columns, byte[] hashKey)
    {
        var names = columns.Select(c => c.Name).ToList();
        _sources = view is null || view.Columns.Count == 0 ? [.. Enumerable.Range(0, columns.Count)] : [.. view.Columns.Select(c => names.IndexOf(c))];
        _masks = [.. _sources.Select(i => view?.Masks.FirstOrDefault(m => m.Column == names[i]))];
        _types = [.. _sources.Select(i => columns[i].Type)];
        _hashKey = hashKey;
        _filter = view?.RowFilter is { } filter ? new RowFilter(filter, columns) : null;
        Columns = [.. _sources.Select((source, i) => _masks[i] is { } mask
            ? new Column { Name = columns[source].Name, Type = ColumnMask.OutputTypeOf(mask, columns[source].Type), Nullable = true }
            : columns[source].Clone())];
    }

    /// <summary>The columns delivered, as their values are after masking.</summary>
    public IReadOnlyList<Column> Columns { get; }

    /// <summary>Writes the current row of <paramref name="row"/> to <paramref name="writer"/> when the view delivers it.</summary>
    /// <param name="row">The table, at a row.</param>
    /// <param name="writer">Where delivered rows go.</param>
    /// <param name="masks">The view's masks (<see cref="NewMasks"/>).</param>
    public void Deliver(ITableReader row, ITableWriter writer, ColumnMask?[] masks)
    {
        if (!Includes(row))
        {
            return;
        }

        for (var i = 0; i < _sources.Length; i++)
        {
            var value = row[_sources[i]];
            writer.Set(i, masks[i] is { } mask ? mask.Apply(value) : value);
        }

        writer.EndRow();
    }

    /// <summary>Whether the view delivers the current row of <paramref name="row"/>.</summary>
    public bool Includes(ITableReader row) => _filter is null || _filter.Includes(row);

    /// <summary>The table's column that delivered column <paramref name="column"/> comes from.</summary>
    public int Source(int column) => _sources[column];

    /// <summary>
    /// A set of the view's masks (by delivered column; null: unmasked), for one thread: a mask keeps
    /// state between values. Whoever takes a set disposes it (<see cref="ColumnMask.DisposeAll"/>).
    /// </summary>
    public ColumnMask?[] NewMasks() => [.. _masks.Select((mask, i) => mask is null ? null : new ColumnMask(mask, _types[i], _hashKey))];
}
