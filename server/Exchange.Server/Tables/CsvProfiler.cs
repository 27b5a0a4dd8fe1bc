using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Exchange.V1;
using nietras.SeparatedValues;

namespace Exchange.Server.Tables;

/// <summary>
/// Reads a CSV upload once, as its bytes pass on their way to encryption, into its schema and
/// quality report. The bytes go through a small pipe to a reader of their own, so memory stays
/// bounded (the pipe, one row, fixed-size sketches per column) and nothing is written anywhere.
/// A malformed CSV, or a row breaking the schema of a strict upload, fails the upload with a
/// message naming the row or column.
/// </summary>
internal sealed class CsvProfiler : IAsyncDisposable
{
    private const int PipeBytes = 1024 * 1024;

    // UTF-8 only: its byte-order mark is skipped (the encoding's preamble); any other mark is invalid
    // UTF-8, never a switch to UTF-16, whose newlines the row guard, reading bytes, would not see.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true);

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2,
        useSynchronizationContext: false));
    private readonly Schema _declared;
    private readonly bool _strict;
    private readonly int _maxColumns;
    private readonly Task<TableProfile> _reading;
    private CsvRowGuard _guard;
    private bool _finished;

    public CsvProfiler(Schema declared, bool strict, int maxColumns, int maxRowBytes)
    {
        (_declared, _strict, _maxColumns) = (declared, strict, maxColumns);
        _guard = new CsvRowGuard(maxRowBytes);
        // Its own thread, reading synchronously: an await per row would cost more than the row's counting.
        _reading = Task.Factory.StartNew(Read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Takes the next bytes; fails with the reader's refusal once it has given up.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _guard.Scan(bytes.Span);
        var flushed = await _pipe.Writer.WriteAsync(bytes, cancellationToken);
        if (flushed.IsCompleted)
        {
            // The reader stopped before the end: it refused the table.
            await _reading;
        }
    }

    /// <summary>The profile, once every byte is in.</summary>
    public async Task<TableProfile> FinishAsync()
    {
        _guard.End();
        _finished = true;
        await _pipe.Writer.CompleteAsync();
        return await _reading;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            await _pipe.Writer.CompleteAsync(new OperationCanceledException("The upload ended before the table was read."));
        }

        try
        {
            await _reading;
        }
        catch (Exception) when (!_finished)
        {
            // The upload already failed for its own reason.
        }
    }

    private TableProfile Read()
    {
        var row = 0;
        try
        {
            using var text = new StreamReader(_pipe.Reader.AsStream(leaveOpen: true), StrictUtf8, detectEncodingFromByteOrderMarks: false);
            using var reader = Sep.New(',').Reader(options => options with
            {
                HasHeader = true,
                Unescape = true,
                DisableColCountCheck = true,
                CultureInfo = System.Globalization.CultureInfo.InvariantCulture,
            }).From(text);
            var columns = Columns(reader.Header);
            var rows = new Rows(columns);
            foreach (var current in reader)
            {
                row = current.RowIndex;
                if (!rows.Add(current) && _strict)
                {
                    throw Refusal.Invalid(rows.Broken(current));
                }
            }

            return rows.Finish();
        }
        catch (DecoderFallbackException)
        {
            throw Refusal.Invalid($"The CSV is not valid UTF-8 (at or after row {row}; the header is row 0); nothing was stored.");
        }
        catch (ArgumentException ex) when (ex is not ArgumentNullException)
        {
            // Sep refuses a header naming a column twice.
            throw Refusal.Invalid($"The CSV's header is not usable: {ex.Message}; nothing was stored.");
        }
        finally
        {
            _pipe.Reader.Complete();
        }
    }

    /// <summary>A profile per header column, with what the provider declared about it.</summary>
    private ColumnProfile[] Columns(SepReaderHeader header)
    {
        var names = header.ColNames;
        if (names.Count == 0)
        {
            throw Refusal.Invalid("A CSV revision starts with a header row naming its columns; this upload has none; nothing was stored.");
        }

        if (names.Count > _maxColumns)
        {
            throw Refusal.Invalid(
                $"The CSV's header has {names.Count} columns, more than the {_maxColumns} a table may have; nothing was stored.");
        }

        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                throw Refusal.Invalid($"Column {i + 1} of the CSV's header has no name; every column needs one; nothing was stored.");
            }
        }

        var declared = _declared.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
        var missing = declared.Keys.Where(name => !names.Contains(name)).ToList();
        if (missing.Count > 0)
        {
            throw Refusal.Invalid(
                $"The declared column '{missing[0]}' is not in the CSV's header ({string.Join(", ", names.Take(20))}); nothing was stored.");
        }

        return [.. names.Select(name => new ColumnProfile(declared.GetValueOrDefault(name) ?? new Column { Name = name }))];
    }

    /// <summary>The rows of a CSV, whose rows may also break the schema by their width.</summary>
    private sealed class Rows(ColumnProfile[] columns)
    {
        private readonly RowTally _tally = new(columns);
        private readonly int _width = columns.Length;

        /// <summary>Counts a row; false when it breaks the schema (its width, a declared type or nullability).</summary>
        // Not inlined into the reading loop, which runs once and so is compiled on the fly (on-stack
        // replacement), less well: called per row, this is compiled fully, with its profile's guidance.
        [MethodImpl(MethodImplOptions.NoInlining)]
        public bool Add(SepReader.Row row)
        {
            _tally.BeginRow();
            for (var i = 0; i < _width; i++)
            {
                _tally.Add(i, i < row.ColCount ? row[i].Span : default);
            }

            return _tally.EndRow(shaped: row.ColCount == _width);
        }

        public string Broken(SepReader.Row row)
        {
            var where = $"Row {row.RowIndex} of the CSV (line {row.LineNumberFrom})";
            if (row.ColCount != _width)
            {
                return $"{where} has {row.ColCount} fields, not the header's {_width}; the upload is strict, so nothing was stored.";
            }

            return _tally.Broken(where, row[_tally.BrokenColumn].Span, "empty");
        }

        public TableProfile Finish() => _tally.Finish(TableFormat.Csv);
    }
}
