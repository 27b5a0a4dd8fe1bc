using System.Runtime.CompilerServices;

namespace Exchange.Server.Tables;

/// <summary>
/// A run of CSV rows from one block, kept a column at a time, so that the profile counts each
/// column's values in one loop made for its type (<see cref="ColumnProfile.AddColumn"/>) rather
/// than value by value across a row's different types. The splitter writes the rows' fields
/// straight into it.
/// </summary>
internal sealed class CsvRowBatch
{
    // Column c's values at c * capacity: where each starts and ends in the block, as written.
    private readonly int[] _starts;
    private readonly int[] _ends;
    private readonly int[] _fields;
    private readonly int[] _rowStarts;
    private readonly int[] _rowsInBlock;
    private readonly int _width;
    private readonly int _capacity;
    private byte[] _block = [];
    private byte[] _unescaped = new byte[256];

    public CsvRowBatch(CsvSplitter splitter, int width, int capacity)
    {
        (_width, _capacity) = (width, capacity);
        (_starts, _ends) = (new int[width * capacity], new int[width * capacity]);
        (_fields, _rowStarts, _rowsInBlock) = (new int[capacity], new int[capacity], new int[capacity]);
        splitter.Into(_starts, _ends, width, capacity);
    }

    /// <summary>The rows taken; the next row is read into slot <see cref="Count"/>.</summary>
    public int Count { get; private set; }

    public bool IsFull => Count == _capacity;

    /// <summary>The row number of the batch's first row (the header is row 0).</summary>
    public long FirstRow { get; private set; }

    /// <summary>Takes the splitter's current row, number <paramref name="row"/>, read into slot <see cref="Count"/>.</summary>
    public void Add(CsvSplitter splitter, long row)
    {
        if (Count == 0)
        {
            (_block, FirstRow) = (splitter.Block, row);
        }

        var slot = Count++;
        (_fields[slot], _rowStarts[slot], _rowsInBlock[slot]) = (splitter.Count, splitter.RowStart, splitter.RowInBlock);
        for (var column = splitter.Count; column < _width; column++)
        {
            // A short row's missing values are empty.
            var at = (column * _capacity) + slot;
            (_starts[at], _ends[at]) = (0, 0);
        }
    }

    /// <summary>Row <paramref name="row"/>'s value in column <paramref name="column"/>, unescaped; valid until the next call.</summary>
    public ReadOnlySpan<byte> Value(int column, int row)
    {
        var at = (column * _capacity) + row;
        return Unescaped(_block.AsSpan(_starts[at], _ends[at] - _starts[at]));
    }

    /// <summary>
    /// Column <paramref name="column"/>'s values as written: row r's lies in <paramref name="block"/>
    /// from <paramref name="starts"/>[r] to <paramref name="ends"/>[r], to be read through
    /// <see cref="Unescaped"/>. For a loop over a column, where <see cref="Value"/> would look the
    /// arrays up again for every value.
    /// </summary>
    public void Column(int column, out ReadOnlySpan<byte> block, out ReadOnlySpan<int> starts, out ReadOnlySpan<int> ends)
    {
        block = _block;
        starts = _starts.AsSpan(column * _capacity, Count);
        ends = _ends.AsSpan(column * _capacity, Count);
    }

    /// <summary>A value as written, unescaped; valid until the next call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Unescaped(ReadOnlySpan<byte> raw) => CsvSplitter.Unescaped(raw, ref _unescaped);

    /// <summary>How many fields row <paramref name="row"/> has (all of them, even past the header's width).</summary>
    public int Fields(int row) => _fields[row];

    /// <summary>The line row <paramref name="row"/> starts on, as the splitter still reading its block counts it.</summary>
    public long Line(CsvSplitter splitter, int row) => splitter.LineOf(_rowsInBlock[row], _rowStarts[row]);

    public void Clear() => (Count, _block) = (0, []);
}
