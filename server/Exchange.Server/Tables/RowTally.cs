using System.IO.Hashing;
using System.Numerics;
using System.Runtime.InteropServices;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// The counts of a table read row by row, whatever its format: each value into its column's
/// profile, and the rows, the rows breaking the schema and (by a hash of each row) the duplicate rows.
/// </summary>
internal sealed class RowTally(ColumnProfile[] columns)
{
    private const int ExactDuplicateRows = 100_000;

    private readonly HyperLogLog _distinct = new(14, ExactDuplicateRows);
    private ulong[] _rowHashes = [];
    private int[] _brokenColumns = [];
    private long _count;
    private long _broken;
    private ulong _hash;

    /// <summary>The first column whose value broke its declared type or nullability in the current row; -1 for none.</summary>
    public int BrokenColumn { get; private set; } = -1;

    public void BeginRow()
    {
        _count++;
        _hash = 0;
        BrokenColumn = -1;
    }

    /// <summary>Counts the current row's value of the column at <paramref name="column"/> (empty is null), as UTF-16 or UTF-8 text.</summary>
    public void Add<T>(int column, ReadOnlySpan<T> text)
        where T : unmanaged, IBinaryInteger<T>
    {
        var cell = Hash(MemoryMarshal.AsBytes(text));
        if (!columns[column].Add(text, cell) && BrokenColumn < 0)
        {
            BrokenColumn = column;
        }

        _hash = Combine(_hash, cell);
    }

    /// <summary>A value's hash: the same for equal values.</summary>
    public static ulong Hash(ReadOnlySpan<byte> value) => XxHash3.HashToUInt64(value);

    /// <summary>A row's hash so far, with its next value's.</summary>
    public static ulong Combine(ulong row, ulong cell) => (BitOperations.RotateLeft(row, 5) ^ cell) * 0x9E3779B97F4A7C15;

    /// <summary>
    /// Counts a batch of CSV rows, exactly as row by row; returns the first of them that broke the schema
    /// (its width, a declared type or nullability: <see cref="BrokenColumnOf"/> tells which column), or -1.
    /// </summary>
    public int AddRows(CsvRowBatch rows)
    {
        var count = rows.Count;
        if (_rowHashes.Length < count)
        {
            (_rowHashes, _brokenColumns) = (new ulong[count], new int[count]);
        }

        var hashes = _rowHashes.AsSpan(0, count);
        var broken = _brokenColumns.AsSpan(0, count);
        hashes.Clear();
        broken.Fill(-1);
        for (var column = 0; column < columns.Length; column++)
        {
            columns[column].AddColumn(rows, column, hashes, broken);
        }

        var first = -1;
        for (var row = 0; row < count; row++)
        {
            _distinct.Add(hashes[row]);
            if (rows.Fields(row) != columns.Length || broken[row] >= 0)
            {
                _broken++;
                first = first < 0 ? row : first;
            }
        }

        _count += count;
        return first;
    }

    /// <summary>The first column whose value broke its declared type or nullability in row <paramref name="row"/> of the batch last added; -1 for none.</summary>
    public int BrokenColumnOf(int row) => _brokenColumns[row];

    /// <summary>Ends the current row; false when it broke the schema (a value, or its shape when <paramref name="shaped"/> is false).</summary>
    public bool EndRow(bool shaped = true)
    {
        _distinct.Add(_hash);
        var fits = shaped && BrokenColumn < 0;
        _broken += fits ? 0 : 1;
        return fits;
    }

    /// <summary>
    /// Why a strict upload is refused at the current row: <paramref name="where"/> names the row,
    /// <paramref name="value"/> is its value in <see cref="BrokenColumn"/>; <paramref name="none"/> says what an absent value is in the format.
    /// </summary>
    public string Broken(string where, ReadOnlySpan<char> value, string none) => Broken(BrokenColumn, where, value, none);

    /// <summary>Why a strict upload is refused at a row whose value <paramref name="value"/> in column <paramref name="brokenColumn"/> broke it.</summary>
    public string Broken(int brokenColumn, string where, ReadOnlySpan<char> value, string none)
    {
        var column = columns[brokenColumn];
        var problem = value.IsEmpty
            ? $"is {none}, and the column is declared not nullable"
            : $"is not a value of its declared type {ColumnValues.TypeName(column.DeclaredType)}";
        return $"{where}: its value in column '{column.Name}' {problem}; the upload is strict, so nothing was stored.";
    }

    public TableProfile Finish(TableFormat format)
    {
        var schema = new Schema();
        var quality = new QualityReport { RowCount = _count, RowsBreakingSchema = _broken };
        var newest = new List<DateTimeOffset?>();
        long cells = 0, nulls = 0;
        foreach (var column in columns)
        {
            var (described, measured, latest) = column.Finish(_count);
            schema.Columns.Add(described);
            quality.Columns.Add(measured);
            newest.Add(latest);
            (cells, nulls) = (cells + _count, nulls + measured.NullCount);
        }

        quality.DuplicateRowEstimate = _count - Math.Min(_distinct.Estimate(), _count);
        quality.Completeness = cells == 0 ? 1 : 1 - ((double)nulls / cells);
        return new TableProfile(format, schema, quality, newest);
    }
}
