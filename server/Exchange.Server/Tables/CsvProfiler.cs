using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Threading.Channels;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// Reads a CSV upload once, as its bytes pass on their way to encryption, into its schema and
/// quality report. The bytes are handed, a block of whole rows at a time, to a reader of their
/// own, so memory stays bounded (a few blocks, fixed-size sketches per column) and nothing is
/// written anywhere. A malformed CSV, or a row breaking the schema of a strict upload, fails the
/// upload with a message naming the row or column.
/// </summary>
internal sealed class CsvProfiler : IAsyncDisposable
{
    // A block is handed over once it holds this much of whole rows: small enough that the blocks in
    // flight stay a few MiB, large enough that the threads seldom wait on each other. Each wait costs
    // a thread pool wake-up and spin; at 256 KiB those cost a sixth of the profile's CPU (README, Benchmarks).
    private const int HandOverBytes = 1024 * 1024;
    private const int BlockBytes = 2 * HandOverBytes;

    private readonly Channel<(byte[] Bytes, int Length)> _blocks = Channel.CreateBounded<(byte[], int)>(
        new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
    private readonly Schema _declared;
    private readonly bool _strict;
    private readonly int _maxColumns;
    private readonly CsvSplitter _splitter;
    private readonly Task<TableProfile> _reading;
    private CsvRowGuard _guard;
    private byte[] _block = ArrayPool<byte>.Shared.Rent(BlockBytes);
    private int _filled;
    private int _rowsEnd;
    private bool _finished;

    // The reader's: the row being read (the header is row 0) and what the header made of the columns.
    private long _row = -1;
    private Rows? _rows;

    public CsvProfiler(Schema declared, bool strict, int maxColumns, int maxRowBytes)
    {
        (_declared, _strict, _maxColumns) = (declared, strict, maxColumns);
        _guard = new CsvRowGuard(maxRowBytes);
        _splitter = new CsvSplitter(maxColumns + 1);
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>Takes the next bytes; fails with the reader's refusal once it has given up.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // A piece at a time, however large the chunk: a block grows past its size only for a row longer than it.
        for (var at = 0; at < bytes.Length; at += HandOverBytes)
        {
            await TakeAsync(bytes.Slice(at, Math.Min(HandOverBytes, bytes.Length - at)), cancellationToken);
        }
    }

    private async ValueTask TakeAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var rowsEnd = _guard.Scan(bytes.Span);
        if (_filled + bytes.Length > _block.Length)
        {
            if (_rowsEnd > 0)
            {
                await HandOverAsync(_filled + bytes.Length - _rowsEnd, cancellationToken);
            }

            if (_filled + bytes.Length > _block.Length)
            {
                // A row longer than a block (up to the guard's limit).
                var shorter = _block;
                _block = Moved(shorter, 0, _filled, _filled + bytes.Length);
                ArrayPool<byte>.Shared.Return(shorter);
            }
        }

        bytes.Span.CopyTo(_block.AsSpan(_filled));
        _rowsEnd = rowsEnd < 0 ? _rowsEnd : _filled + rowsEnd;
        _filled += bytes.Length;
        if (_rowsEnd >= HandOverBytes)
        {
            await HandOverAsync(_filled - _rowsEnd, cancellationToken);
        }
    }

    /// <summary>The profile, once every byte is in.</summary>
    public async Task<TableProfile> FinishAsync()
    {
        _guard.End();
        _finished = true;
        var (last, length) = (_block, _filled);
        (_block, _filled) = ([], 0);
        if (length > 0)
        {
            await SendAsync(last, length, CancellationToken.None);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(last);
        }

        _blocks.Writer.TryComplete();
        return await _reading;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            _blocks.Writer.TryComplete(new OperationCanceledException("The upload ended before the table was read."));
        }

        try
        {
            await _reading;
        }
        catch (Exception)
        {
            // Already reported: by FinishAsync, or the upload failed for its own reason first.
        }

        if (_block.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_block);
            _block = [];
        }
    }

    /// <summary>Hands the block's whole rows to the reader and starts a new block with the rest, room for <paramref name="needed"/> bytes.</summary>
    private async ValueTask HandOverAsync(int needed, CancellationToken cancellationToken)
    {
        var (full, rows) = (_block, _rowsEnd);
        var rest = _filled - _rowsEnd;
        _block = Moved(full, rows, rest, needed);
        (_filled, _rowsEnd) = (rest, 0);
        await SendAsync(full, rows, cancellationToken);
    }

    /// <summary>A block of at least <paramref name="needed"/> bytes starting with <paramref name="count"/> bytes of <paramref name="from"/> at <paramref name="start"/>.</summary>
    private static byte[] Moved(byte[] from, int start, int count, int needed)
    {
        var to = ArrayPool<byte>.Shared.Rent(Math.Max(needed, BlockBytes));
        from.AsSpan(start, count).CopyTo(to);
        return to;
    }

    private async ValueTask SendAsync(byte[] block, int length, CancellationToken cancellationToken)
    {
        try
        {
            await _blocks.Writer.WriteAsync((block, length), cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // The reader stopped before the end: it refused the table.
            ArrayPool<byte>.Shared.Return(block);
            await _reading;
            throw;
        }
        catch (OperationCanceledException)
        {
            ArrayPool<byte>.Shared.Return(block);
            throw;
        }
    }

    private async Task<TableProfile> ReadAsync()
    {
        try
        {
            await foreach (var (block, length) in _blocks.Reader.ReadAllAsync())
            {
                try
                {
                    Read(block, length);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(block);
                }
            }

            return _rows?.Finish()
                ?? throw Refusal.Invalid("A CSV revision starts with a header row naming its columns; this upload has none; nothing was stored.");
        }
        finally
        {
            // A refusal stops the writer too; what it had handed over is not read.
            _blocks.Writer.TryComplete();
            while (_blocks.Reader.TryRead(out var unread))
            {
                ArrayPool<byte>.Shared.Return(unread.Bytes);
            }
        }
    }

    private void Read(byte[] block, int length)
    {
        // UTF-8 only: its byte-order mark is skipped; any other mark is invalid UTF-8, never a switch
        // to UTF-16, whose line breaks the row guard, reading bytes, would not see.
        var start = _row < 0 && block.AsSpan(0, length).StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        var invalid = Utf8.IsValid(block.AsSpan(start, length - start)) ? int.MaxValue : FirstInvalid(block.AsSpan(0, length), start);
        _splitter.Reset(block, start, length);
        while (_splitter.Next(_rows?.Slot ?? 0))
        {
            _row++;
            if (_splitter.RowEnd > invalid)
            {
                // The rows before it first: one of them may break a strict upload's schema.
                _rows?.Flush();
                throw Refusal.Invalid($"Row {_row} of the CSV (the header is row 0) is not valid UTF-8; nothing was stored.");
            }

            if (_rows is null)
            {
                _rows = new Rows(Columns(), _splitter, _strict);
            }
            else
            {
                _rows.Add(_row);
            }
        }

        // The batch points into the block, which goes back to the pool.
        _rows?.Flush();
    }

    private static int FirstInvalid(ReadOnlySpan<byte> bytes, int start)
    {
        for (var at = start; at < bytes.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out var used) != OperationStatus.Done)
            {
                return at;
            }

            at += used;
        }

        return int.MaxValue;
    }

    /// <summary>A profile per header column, with what the provider declared about it.</summary>
    private ColumnProfile[] Columns()
    {
        if (_splitter.Count > _maxColumns)
        {
            throw Refusal.Invalid(
                $"The CSV's header has {_splitter.Count} columns, more than the {_maxColumns} a table may have; nothing was stored.");
        }

        var names = new List<string>(_splitter.Count);
        var named = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < _splitter.Count; i++)
        {
            // Valid UTF-8: the header's row was checked with its block.
            var name = Encoding.UTF8.GetString(_splitter.Field(i));
            if (!named.Add(name))
            {
                throw Refusal.Invalid($"The CSV's header is not usable: it names the column '{name}' twice; nothing was stored.");
            }

            names.Add(name);
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                throw Refusal.Invalid($"Column {i + 1} of the CSV's header has no name; every column needs one; nothing was stored.");
            }
        }

        var declared = _declared.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
        var missing = declared.Keys.Where(name => !named.Contains(name)).ToList();
        if (missing.Count > 0)
        {
            throw Refusal.Invalid(
                $"The declared column '{missing[0]}' is not in the CSV's header ({string.Join(", ", names.Take(20))}); nothing was stored.");
        }

        return [.. names.Select(name => new ColumnProfile(declared.GetValueOrDefault(name) ?? new Column { Name = name }))];
    }

    /// <summary>The rows of a CSV, whose rows may also break the schema by their width, counted a batch at a time.</summary>
    private sealed class Rows(ColumnProfile[] columns, CsvSplitter splitter, bool strict)
    {
        // A batch holds at most this many values (256 rows of up to 64 columns): its arrays stay off the
        // large object heap however wide the table.
        private const int BatchValues = 16 * 1024;

        private readonly RowTally _tally = new(columns);
        private readonly CsvRowBatch _batch = new(splitter, columns.Length, Math.Clamp(BatchValues / columns.Length, 1, 256));

        /// <summary>The slot the next row is to be read into.</summary>
        public int Slot => _batch.Count;

        /// <summary>Takes the splitter's current row, number <paramref name="row"/>; refuses a strict upload at the first row breaking the schema.</summary>
        public void Add(long row)
        {
            _batch.Add(splitter, row);
            if (_batch.IsFull)
            {
                Flush();
            }
        }

        /// <summary>Counts the rows taken; to be called before the splitter leaves their block.</summary>
        public void Flush()
        {
            if (_batch.Count == 0)
            {
                return;
            }

            try
            {
                var broken = _tally.AddRows(_batch);
                if (strict && broken >= 0)
                {
                    throw Refusal.Invalid(Broken(broken));
                }
            }
            finally
            {
                // It points into a block that goes back to the pool.
                _batch.Clear();
            }
        }

        private string Broken(int row)
        {
            var where = $"Row {_batch.FirstRow + row} of the CSV (line {_batch.Line(splitter, row)})";
            if (_batch.Fields(row) != columns.Length)
            {
                return $"{where} has {_batch.Fields(row)} fields, not the header's {columns.Length}; the upload is strict, so nothing was stored.";
            }

            var column = _tally.BrokenColumnOf(row);
            return _tally.Broken(column, where, Encoding.UTF8.GetString(_batch.Value(column, row)), "empty");
        }

        public TableProfile Finish() => _tally.Finish(TableFormat.Csv);
    }
}
