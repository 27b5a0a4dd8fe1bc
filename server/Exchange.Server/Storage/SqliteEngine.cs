using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Exchange.Server.Storage;

/// <summary>The embedded default: one SQLite file (WAL, synchronous=FULL) written by one process.</summary>
internal sealed class SqliteEngine(string path) : DatabaseEngine, IDisposable
{
    // Reader connections stay open between reads, each with the statements it prepared: opening a
    // pooled connection and preparing its statement again cost more than the read itself.
    private const int IdleReaders = 16;

    private readonly System.Collections.Concurrent.ConcurrentBag<DbConnection> _idle = [];

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = 30,
    }.ToString();

    public string Path { get; } = path;

    public override string Location => Path;

    public override bool Shared => false;

    public override void Prepare() => Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);

    public override DbConnection OpenReader()
    {
        // Readers need none of the writer's pragmas: WAL belongs to the database file, set by the
        // writer at start, and the connection string's timeout covers a busy database.
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public override Task<ReaderLease> RentReaderAsync(CancellationToken cancellationToken)
    {
        if (!_idle.TryTake(out var connection))
        {
            connection = OpenReader();
            PreparedStatements.Attach(connection);
        }

        return Task.FromResult(new ReaderLease(connection, GiveBack));
    }

    /// <summary>Closes the idle reader connections, e.g. after one turned out dead.</summary>
    public override void ClearPool()
    {
        while (_idle.TryTake(out var connection))
        {
            Close(connection);
        }
    }

    public void Dispose() => ClearPool();

    public override DbConnection OpenWriter()
    {
        var connection = OpenReader();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public override DbTransaction BeginWrite(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: false);

    public override T WithSchemaLock<T>(DbConnection connection, Func<T> migrate) => migrate();

    public override string SchemaScript(Migration migration) => migration.Sqlite;

    private void GiveBack(DbConnection connection, bool broken)
    {
        if (broken || _idle.Count >= IdleReaders)
        {
            Close(connection);
        }
        else
        {
            _idle.Add(connection);
        }
    }

    private static void Close(DbConnection connection)
    {
        PreparedStatements.For(connection)?.Dispose();
        connection.Dispose();
    }

    public override void Announce(DbConnection connection, DbTransaction transaction, string channel, string payload)
    {
        // One process owns the file: it signals its own downloads and watchers directly.
    }
}
