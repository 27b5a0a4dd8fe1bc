using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Compute.Model;
using Exchange.Server.Tables;
using Exchange.Server.Transfers;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Compute;

/// <summary>
/// Runs checked queries with DuckDB over a revision's table: the revision is decrypted through its
/// <see cref="RevisionStream"/>, only the columns the rule names are loaded, into an in-memory
/// database that may not spill to disk nor reach any file, and kept for the next queries (a few
/// tables, least recently used first out). The SQL it runs is generated (<see cref="QuerySql"/>).
/// </summary>
internal sealed partial class ComputeEngine(IBlobStore blobs, KeyRing keys, IOptions<Hosting.ExchangeOptions> options,
    ILogger<ComputeEngine> logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly LinkedList<LoadedTable> _tables = new();
    private readonly SemaphoreSlim _loads = new(Math.Max(1, options.Value.Compute.ConcurrentLoads));
    private int _loadsWaiting;

    /// <summary>Table loads waiting for one of the replica's load turns (<see cref="ComputeOptions.ConcurrentLoads"/>).</summary>
    internal int LoadsWaitingForTurn => Volatile.Read(ref _loadsWaiting);

    private ComputeOptions Settings => options.Value.Compute;

    /// <summary>Answers <paramref name="query"/> (checked against <paramref name="rule"/>) over <paramref name="stored"/>.</summary>
    public async Task<QueryAnswer> RunAsync(StoredRevision stored, AnalysisRule rule, Query query, INoiseSource noise,
        CancellationToken cancellationToken)
    {
        var table = Lease(stored, RuleColumns(rule));
        try
        {
            var (connection, columns) = await table.Loaded.WaitAsync(cancellationToken);
            try
            {
                return await Task.Run(() => Execute(connection, columns, rule, query, noise, cancellationToken), cancellationToken);
            }
            catch (DuckDBException overflow) when (overflow.ErrorType == DuckDBErrorType.OutOfRange)
            {
                // The engine's message holds intermediate values of the data: the caller gets what went wrong, not them.
                throw OutOfRange(query, columns);
            }
        }
        finally
        {
            bool close, abandoned;
            lock (_gate)
            {
                close = table.Release();
                // Every query that wanted it has gone while it loads: stop decrypting for no one.
                abandoned = table.Abandon();
                if (abandoned)
                {
                    _tables.Remove(table);
                }
            }

            if (abandoned)
            {
                table.Cancel();
            }

            if (close || abandoned)
            {
                table.Close();
            }
        }
    }

    public void Dispose()
    {
        _loads.Dispose();
        lock (_gate)
        {
            foreach (var table in _tables)
            {
                if (table.Evict())
                {
                    table.Close();
                }
            }

            _tables.Clear();
        }
    }

    /// <summary>The columns a rule lets queries touch, in a fixed order: what a loaded table holds.</summary>
    private static List<string> RuleColumns(AnalysisRule rule) =>
        [.. rule.Dimensions.Concat(rule.Aggregates.Select(a => a.Column))
            .Concat(rule.IdentityColumn.Length > 0 ? [rule.IdentityColumn] : [])
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private LoadedTable Lease(StoredRevision stored, List<string> wanted)
    {
        var key = stored.Revision.Id.Name + "\n" + string.Join("\n", wanted);
        List<LoadedTable> closing = [];
        LoadedTable table;
        lock (_gate)
        {
            var node = _tables.First;
            while (node is not null && node.Value.Key != key)
            {
                node = node.Next;
            }

            if (node is not null && !node.Value.Loaded.IsFaulted && !node.Value.Loaded.IsCanceled)
            {
                _tables.Remove(node);
                _tables.AddFirst(node);
                table = node.Value;
            }
            else
            {
                if (node is not null)
                {
                    _tables.Remove(node);
                }

                table = new LoadedTable(key);
                // Not the caller's token: other queries may wait for the same table. It stops once none does.
                table.Loaded = LoadInTurnAsync(stored, wanted, table.Abandoned);
                _tables.AddFirst(table);
                while (_tables.Count > Math.Max(1, Settings.CachedTables))
                {
                    var last = _tables.Last!.Value;
                    _tables.RemoveLast();
                    if (last.Evict())
                    {
                        closing.Add(last);
                    }
                }
            }

            table.Lease();
        }

        foreach (var evicted in closing)
        {
            evicted.Close();
        }

        return table;
    }

    /// <summary>Loads once one of the replica's load turns is free: decrypting and loading take a core and much memory each.</summary>
    private async Task<(DuckDBConnection, IReadOnlyDictionary<string, TableColumn>)> LoadInTurnAsync(StoredRevision stored, List<string> wanted,
        CancellationToken abandoned)
    {
        Interlocked.Increment(ref _loadsWaiting);
        try
        {
            await _loads.WaitAsync(abandoned);
        }
        finally
        {
            Interlocked.Decrement(ref _loadsWaiting);
        }

        try
        {
            return await Task.Run(() => Load(stored, wanted, abandoned), abandoned);
        }
        finally
        {
            _loads.Release();
        }
    }

    private (DuckDBConnection, IReadOnlyDictionary<string, TableColumn>) Load(StoredRevision stored, List<string> wanted, CancellationToken abandoned)
    {
        var revision = stored.Revision;
        var table = revision.Table ?? throw new InvalidOperationException($"{revision.Id.Name} is not a table.");
        var schema = Schema.Parser.ParseFrom(table.Schema).Columns;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            var columns = new Dictionary<string, TableColumn>(StringComparer.Ordinal);
            for (var i = 0; i < wanted.Count; i++)
            {
                var column = schema.First(c => c.Name == wanted[i]);
                columns[column.Name] = new TableColumn(column.Name, column.Type, "c" + i.ToString(CultureInfo.InvariantCulture));
            }

            Configure(connection);
            Execute(connection, "CREATE TABLE data (" + string.Join(", ", wanted.Select(w => $"{columns[w].EngineName} {EngineType(columns[w].Type)}")) + ")");
            long rows = 0;
            var dataKey = keys.Unwrap(stored.WrappedKey, stored.KekId, revision.Id.Name);
            try
            {
                using var stream = new RevisionStream(blobs, stored.BlobId, dataKey, revision.Id.Name, revision.SizeBytes, stored.SegmentSize);
                using var reader = TableFormats.Reader(table.Format, stream, schema);
                var positions = wanted.Select(w => IndexOf(reader.Columns, w)).ToArray();
                var types = wanted.Select(w => columns[w].Type).ToArray();
                using var appender = connection.CreateAppender("data");
                while (reader.Read())
                {
                    if ((rows & 0xFFF) == 0)
                    {
                        abandoned.ThrowIfCancellationRequested();
                    }

                    var row = appender.CreateRow();
                    for (var i = 0; i < positions.Length; i++)
                    {
                        if (!Append(row, types[i], reader[positions[i]]))
                        {
                            throw TooWide(revision.Id.Name, wanted[i]);
                        }
                    }

                    row.EndRow();
                    rows++;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dataKey);
            }

            // Only now: loading needed the appender; from here on nothing may reach a file or change these settings.
            Execute(connection, "SET enable_external_access = false");
            Execute(connection, "SET lock_configuration = true");
            LogLoaded(revision.Id.Name, wanted.Count, rows, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return (connection, columns);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Configure(DuckDBConnection connection)
    {
        // An in-memory database spills to a temporary directory when memory runs short: with none,
        // a query that does not fit fails instead of writing plaintext to disk.
        Execute(connection, "SET temp_directory = ''");
        Execute(connection, "SET max_temp_directory_size = '0B'");
        Execute(connection, "SET autoinstall_known_extensions = false");
        Execute(connection, "SET autoload_known_extensions = false");
        if (Settings.MemoryLimitBytes > 0)
        {
            Execute(connection, $"SET memory_limit = '{Settings.MemoryLimitBytes.ToString(CultureInfo.InvariantCulture)}B'");
        }
    }

    private static int IndexOf(IReadOnlyList<Column> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Name == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"The table has no column '{name}' though its schema does.");
    }

    private static string EngineType(ColumnType type) => type switch
    {
        ColumnType.Int64 => "BIGINT",
        ColumnType.Double => "DOUBLE",
        ColumnType.Decimal => $"DECIMAL(38,{RowBatch.MaxDecimalScale})",
        ColumnType.Bool => "BOOLEAN",
        ColumnType.Date => "DATE",
        ColumnType.Timestamp => "TIMESTAMP",
        _ => "VARCHAR",
    };

    /// <summary>Appends one value; false when it reads as the column's type but the engine's type cannot hold it (a decimal too wide).</summary>
    private static bool Append(IDuckDBAppenderRow row, ColumnType type, ReadOnlySpan<char> text)
    {
        // As a delivery reads it: a value that does not read as the column's type is null.
        switch (type)
        {
            case ColumnType.Int64:
                row.AppendValue(ColumnValues.TryInt64(text, out var integer) ? integer : (long?)null);
                break;
            case ColumnType.Double:
                row.AppendValue(ColumnValues.TryDouble(text, out var number) ? number : (double?)null);
                break;
            case ColumnType.Decimal:
                decimal? value = ColumnValues.TryDecimal(text, out var fixedPoint) ? Math.Round(fixedPoint, RowBatch.MaxDecimalScale) : null;
                if (Math.Abs(value.GetValueOrDefault()) >= EngineDecimalBound)
                {
                    return false;
                }

                row.AppendValue(value);
                break;
            case ColumnType.Bool:
                row.AppendValue(ColumnValues.TryBool(text, out var flag) ? flag : (bool?)null);
                break;
            case ColumnType.Date:
                row.AppendValue(ColumnValues.TryDate(text, out var date) ? date : (DateOnly?)null);
                break;
            case ColumnType.Timestamp:
                row.AppendValue(ColumnValues.TryTimestamp(text, out var time) ? time.UtcDateTime : (DateTime?)null);
                break;
            default:
                row.AppendValue(text.IsEmpty ? null : text.ToString());
                break;
        }

        return true;
    }

    /// <summary>
    /// The engine keeps decimals as DECIMAL(38,10): 28 whole digits. A wider value reads as a
    /// decimal in .NET (up to 29), so a delivery carries it; a query over its column cannot.
    /// </summary>
    private const decimal EngineDecimalBound = 1e28m;

    /// <summary>Names the column, never the value: the caller may not see a row.</summary>
    private static RpcException TooWide(string revision, string column) => new(new Status(StatusCode.FailedPrecondition,
        $"{revision} holds in column '{column}' a decimal of more than 28 whole digits, wider than the engine's DECIMAL(38,10): " +
        "queries cannot run over that column of this revision. Ask its provider for a rule without it, or for a revision in smaller units."));

    /// <summary>An aggregate whose total went beyond the engine's 38 digits, a SUM or AVG of decimals (integers sum in 128 bits, beyond any table).</summary>
    private static RpcException OutOfRange(Query query, IReadOnlyDictionary<string, TableColumn> columns)
    {
        var wide = query.Outputs.Where(o => o.Function is Aggregate.Sum or Aggregate.Avg && columns[o.Column!].Type == ColumnType.Decimal)
            .Select(o => QueryText.Aggregate(o.Function, o.Column)).Distinct().ToList();
        var named = wide.Count > 0 ? string.Join(", ", wide) : "An aggregate";
        return new RpcException(new Status(StatusCode.OutOfRange,
            $"{named} over the rows asked for goes beyond the 38 digits (28 whole, 10 after the point) the engine computes decimals in; " +
            "ask for fewer rows at once (a narrower WHERE, or GROUP BY a dimension) and add the parts up."));
    }

    /// <summary>The most rows an answer holds: more would not fit a response, and no aggregate answer needs them.</summary>
    public const int MaxRows = 10_000;

    public static RpcException TooManyRows() => new(new Status(StatusCode.ResourceExhausted,
        $"The answer would hold more than {MaxRows} rows; group on fewer dimensions, filter, or add a LIMIT of at most {MaxRows}."));

    private static QueryAnswer Execute(DuckDBConnection shared, IReadOnlyDictionary<string, TableColumn> columns, AnalysisRule rule, Query query,
        INoiseSource noise, CancellationToken cancellationToken)
    {
        // A connection of its own per query: connections are not thread-safe, the database they share is.
        using var connection = shared.Duplicate();
        connection.Open();
        var names = query.Outputs.Select(o => o.Name).ToList();
        return rule.Privacy is { } privacy
            ? PrivateAnswer.Compute(connection, columns, rule, privacy, query, noise, names, cancellationToken)
            : ExactAnswer(connection, columns, rule, query, names);
    }

    private static QueryAnswer ExactAnswer(DuckDBConnection connection, IReadOnlyDictionary<string, TableColumn> columns, AnalysisRule rule, Query query,
        List<string> names)
    {
        var sql = QuerySql.Exact(query, rule, columns, AnalysisRules.MinIdentities(rule));
        var rows = new List<string?[]>();
        long? suppressed = null;
        using (var command = Command(connection, sql))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (rows.Count == MaxRows)
                {
                    throw TooManyRows();
                }

                var row = new string?[query.Outputs.Count];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = Text(reader.GetValue(i), TypeOf(query.Outputs[i], columns));
                }

                rows.Add(row);
                suppressed ??= Convert.ToInt64(reader.GetValue(query.Outputs.Count + 1), CultureInfo.InvariantCulture);
            }
        }

        if (suppressed is null)
        {
            // Nothing passed: every group the query forms was suppressed (without GROUP BY, the one group).
            if (query.GroupBy.Count == 0)
            {
                suppressed = 1;
            }
            else
            {
                using var count = Command(connection, QuerySql.Groups(query, columns));
                suppressed = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
            }
        }

        return new QueryAnswer(names, rows, suppressed.Value);
    }

    internal static DuckDBCommand Command(DuckDBConnection connection, QuerySql sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql.Text;
        foreach (var (name, value) in sql.Parameters)
        {
            command.Parameters.Add(new DuckDBParameter(name, value));
        }

        return command;
    }

    /// <summary>The column type an output's values have when shown: a dimension's, MIN's and MAX's are their column's.</summary>
    internal static ColumnType? TypeOf(QueryOutput output, IReadOnlyDictionary<string, TableColumn> columns) =>
        output.Function is null or Aggregate.Min or Aggregate.Max ? columns[output.Column!].Type : null;

    /// <summary>A value as the result shows it: integers in full, floating point in shortest round-trip form, dates and times in ISO 8601.</summary>
    internal static string? Text(object value, ColumnType? type) => value switch
    {
        DBNull => null,
        string text => text,
        long integer => ColumnValues.Text(integer),
        int integer => ColumnValues.Text(integer),
        BigInteger big => big.ToString(CultureInfo.InvariantCulture),
        decimal fixedPoint => fixedPoint.ToString("0.##########", CultureInfo.InvariantCulture),
        double floating => ColumnValues.Text(floating),
        bool flag => ColumnValues.Text(flag),
        DateOnly date => ColumnValues.Text(date),
        DateTime time when type == ColumnType.Date => ColumnValues.Text(DateOnly.FromDateTime(time)),
        DateTime time => ColumnValues.Text(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc))),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [LoggerMessage(EventId = 80, Level = LogLevel.Information, Message = "Loaded {Revision} for queries: {Columns} columns, {Rows} rows in {Milliseconds:F0} ms")]
    private partial void LogLoaded(string revision, int columns, long rows, double milliseconds);
}
