using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Tables;

/// <summary>
/// Reads a typed table (Parquet, Arrow) once into its schema and quality report. The file's own
/// column types are the declared ones, so validity counts only nulls against nullability; what the
/// provider declares about a column (describable, or a type of its own, then checked on every
/// value) applies as to a CSV, and a strict upload is refused at the first row breaking it.
/// </summary>
internal static class TableProfiler
{
    /// <summary>The profile of the table in <paramref name="input"/>; a file that does not read as <paramref name="format"/> is refused naming what is wrong.</summary>
    /// <remarks>
    /// A few compressed bytes can decode to a lot of text (a dictionary page of one long string, a
    /// view of the same bytes): a row longer than <paramref name="maxRowChars"/> characters, or a
    /// table of more than <paramref name="maxChars"/>, is refused as a CSV of that size would be.
    /// </remarks>
    public static TableProfile Profile(TableFormat format, Stream input, Schema declared, bool strict, int maxColumns, int maxRowChars,
        long maxChars, CancellationToken cancellationToken)
    {
        long decoded = 0;
        var name = TableFormats.Name(format);
        long row = 0;
        try
        {
            using var reader = TableFormats.Reader(format, input);
            var columns = Columns(name, reader.Columns, declared, maxColumns);
            var tally = new RowTally(columns);
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                row++;
                tally.BeginRow();
                long width = 0;
                for (var i = 0; i < columns.Length; i++)
                {
                    var value = reader[i];
                    width += value.Length;
                    tally.Add(i, value);
                }

                decoded += width;
                if (width > maxRowChars || decoded > maxChars)
                {
                    throw Refusal.Invalid(width > maxRowChars
                        ? $"Row {row} of the {name} table holds {width} characters, more than the {maxRowChars} a row may; nothing was stored."
                        : $"The {name} table decodes to more than {maxChars} characters, more than the largest revision accepted; nothing was stored.");
                }

                if (!tally.EndRow() && strict)
                {
                    throw Refusal.Invalid(tally.Broken($"Row {row} of the {name} table (the first is row 1)", reader[tally.BrokenColumn], "null"));
                }
            }

            return tally.Finish(format);
        }
        catch (Refusal refusal) when (!refusal.Message.EndsWith("nothing was stored.", StringComparison.Ordinal))
        {
            throw Refusal.Invalid($"{refusal.Message.TrimEnd('.')}; nothing was stored.");
        }
        catch (Exception ex) when (ex is not (Refusal or RpcException or OperationCanceledException))
        {
            // The libraries throw many kinds of exception at bytes that are not their format.
            var where = row == 0 ? "" : $" (after row {row})";
            throw Refusal.Invalid($"The upload is not a readable {name} file{where}: {ex.Message}; nothing was stored.");
        }
    }

    /// <summary>A profile per column of the file, with what the provider declared about it.</summary>
    private static ColumnProfile[] Columns(string format, IReadOnlyList<Column> stored, Schema declared, int maxColumns)
    {
        if (stored.Count == 0)
        {
            throw Refusal.Invalid($"The {format} file has no columns");
        }

        if (stored.Count > maxColumns)
        {
            throw Refusal.Invalid($"The {format} file has {stored.Count} columns, more than the {maxColumns} a table may have");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in stored)
        {
            if (!names.Add(column.Name))
            {
                throw Refusal.Invalid($"The {format} file has two columns named '{column.Name}'; a table's column names are distinct");
            }
        }

        var wanted = declared.Columns.ToDictionary(column => column.Name, StringComparer.Ordinal);
        var missing = wanted.Keys.FirstOrDefault(name => !names.Contains(name));
        if (missing is not null)
        {
            throw Refusal.Invalid(
                $"The declared column '{missing}' is not in the {format} file's columns ({string.Join(", ", stored.Take(20).Select(c => c.Name))})");
        }

        return [.. stored.Select(column => new ColumnProfile(wanted.GetValueOrDefault(column.Name) is { } own
            ? own.Type == ColumnType.Unspecified ? new Column(column) { Describable = own.Describable } : own
            : column))];
    }
}
