namespace Exchange.Server.Tables;

/// <summary>
/// A block of delivered rows, their values as text in one arena, handed from the thread that reads
/// and filters a table to the one that masks and writes it: the two halves of a delivery's work
/// then run on two cores. Bounded in rows and (but for one long row) in characters.
/// </summary>
internal sealed class RowBlock(int columns)
{
    public const int MaxRows = 4096;
    private const int ArenaChars = 1 << 20;

    private readonly int[] _starts = new int[MaxRows * columns];
    private readonly int[] _lengths = new int[MaxRows * columns];
    private char[] _arena = new char[ArenaChars];
    private int _used;

    public int Count { get; private set; }

    /// <summary>Whether the values were masked as they were added (the writer then sets them as they are).</summary>
    public bool Masked { get; set; }

    public bool IsFull => Count == MaxRows || _used >= ArenaChars / 2;

    /// <summary>Keeps the current row's values of the table's columns the plan delivers, masked with <paramref name="masks"/> when given.</summary>
    public void Add(ITableReader row, ViewPlan plan, ColumnMask?[]? masks)
    {
        var at = Count * columns;
        for (var i = 0; i < columns; i++)
        {
            var value = row[plan.Source(i)];
            if (masks?[i] is { } mask)
            {
                value = mask.Apply(value);
            }

            if (_arena.Length - _used < value.Length)
            {
                Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + value.Length));
            }

            value.CopyTo(_arena.AsSpan(_used));
            (_starts[at + i], _lengths[at + i]) = (_used, value.Length);
            _used += value.Length;
        }

        Count++;
    }

    public ReadOnlySpan<char> this[int row, int column] => _arena.AsSpan(_starts[(row * columns) + column], _lengths[(row * columns) + column]);

    public void Clear()
    {
        (Count, _used) = (0, 0);
        if (_arena.Length > ArenaChars)
        {
            // One long row grew it; the next block starts small again.
            _arena = new char[ArenaChars];
        }
    }
}
