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

    /// <summary>Whether the values have been masked (<see cref="Mask"/>).</summary>
    public bool Masked { get; private set; }

    public bool IsFull => Count == MaxRows || _used >= ArenaChars / 2;

    /// <summary>Keeps the current row's values of the table's columns the plan delivers, as they are.</summary>
    public void Add(ITableReader row, ViewPlan plan)
    {
        var at = Count * columns;
        for (var i = 0; i < columns; i++)
        {
            Store(at + i, row[plan.Source(i)]);
        }

        Count++;
    }

    /// <summary>Masks the rows' values, column by column (by delivered column; null: unmasked).</summary>
    public void Mask(ColumnMask?[] masks)
    {
        for (var column = 0; column < columns; column++)
        {
            masks[column]?.Apply(this, column);
        }

        Masked = true;
    }

    /// <summary>Replaces a value (with one that may be a slice of the old).</summary>
    public void Set(int row, int column, ReadOnlySpan<char> value) => Store((row * columns) + column, value);

    public ReadOnlySpan<char> this[int row, int column] => _arena.AsSpan(_starts[(row * columns) + column], _lengths[(row * columns) + column]);

    public void Clear()
    {
        (Count, _used, Masked) = (0, 0, false);
        if (_arena.Length > 4 * ArenaChars)
        {
            // One long row grew it (masks may grow it a little, and keep it so); the next block starts small again.
            _arena = new char[ArenaChars];
        }
    }

    private void Store(int at, ReadOnlySpan<char> value)
    {
        if (_arena.Length - _used < value.Length)
        {
            // The value may lie in the old arena, which stays readable until copied from.
            Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _used + value.Length));
        }

        value.CopyTo(_arena.AsSpan(_used));
        (_starts[at], _lengths[at]) = (_used, value.Length);
        _used += value.Length;
    }
}
