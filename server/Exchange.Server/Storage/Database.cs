using System.Threading.Channels;
using Exchange.Server.Audit;
using Microsoft.Data.Sqlite;

namespace Exchange.Server.Storage;

/// <summary>
/// The embedded SQLite database (WAL, synchronous=FULL). All writes go through one writer that
/// commits them in groups: each unit of work runs in its own savepoint inside a shared
/// transaction, so a failing unit rolls back alone, and one fsync makes the whole group durable.
/// A caller's task completes only after its group has committed.
/// </summary>
internal sealed partial class Database : IAsyncDisposable
{
    private const int MaxBatch = 512;

    private readonly string _connectionString;
    private readonly Channel<IWork> _queue = Channel.CreateUnbounded<IWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly ILogger<Database> _logger;
    private SqliteConnection? _writer;
    private WriteUnit? _context;
    private Task? _writerLoop;

    public Database(string path, TimeProvider time, ILogger<Database> logger)
    {
        Path = path;
        _time = time;
        _logger = logger;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>The audit tree the writer appends to.</summary>
    public AuditTree Tree { get; } = new();

    /// <summary>Raised after each group commit, with the committed log size.</summary>
    public event Action<long>? Committed;

    /// <summary>A connection set up for writing: WAL, synchronous=FULL, a busy timeout.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Loads the audit tree and starts the writer; called once the schema is current.</summary>
    public void StartWriter()
    {
        _writer = Open();
        Tree.Load(_writer);
        _context = new WriteUnit(_writer, Tree);
        _writerLoop = Task.Run(RunWriterAsync);
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, T> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Readers need none of the writer's pragmas: WAL belongs to the database file, set by the
        // writer at start, and the connection string's timeout covers a busy database.
        await using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return read(connection);
    }

    /// <summary>
    /// Runs <paramref name="write"/> in the writer's transaction and returns its result once that
    /// transaction has committed. If it throws, its changes (and audit records) are rolled back and
    /// the exception is rethrown here; an <see cref="AuditedDenial"/> is recorded first. A call
    /// cancelled before its turn does not run at all.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<WriteUnit, T> write, CancellationToken cancellationToken)
    {
        var work = new Work<T>(write, cancellationToken);
        if (!_queue.Writer.TryWrite(work))
        {
            throw new ObjectDisposedException(nameof(Database), "The database is shutting down.");
        }

        return work.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writerLoop is not null)
        {
            await _writerLoop;
        }

        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }
    }

    private async Task RunWriterAsync()
    {
        var batch = new List<IWork>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var work))
            {
                if (!work.CancelIfRequested())
                {
                    batch.Add(work);
                }
            }

            if (batch.Count > 0)
            {
                try
                {
                    Commit(batch);
                }
                catch (Exception ex)
                {
                    // Commit settles every unit itself; this only keeps the one writer alive whatever happens.
                    LogWriterError(ex);
                }
            }
        }
    }

    private void Commit(List<IWork> batch)
    {
        var context = _context!;
        var start = Tree.Save();
        try
        {
            using var transaction = _writer!.BeginTransaction(deferred: false);
            foreach (var work in batch)
            {
                var mark = Tree.Save();
                transaction.Save("work");
                context.Begin(transaction, _time.GetUtcNow());
                try
                {
                    work.Run(context);
                    if (context.Poisoned is { } poison)
                    {
                        // The unit swallowed a failed audit append; its effects cannot commit without their record.
                        throw poison;
                    }

                    transaction.Release("work");
                }
                catch (Exception ex)
                {
                    transaction.Rollback("work");
                    Tree.Restore(mark);
                    if (ex is AuditedDenial denied)
                    {
                        context.Record(denied.Entry);
                        work.Fail(denied.Denial);
                    }
                    else
                    {
                        work.Fail(ex);
                    }

                    transaction.Release("work");
                }
            }

            transaction.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of the group is durable: forget its appends and fail every unit still waiting.
            Tree.Restore(start);
            LogCommitFailed(ex, batch.Count);
            foreach (var work in batch)
            {
                work.Fail(ex);
                work.Complete();
            }

            return;
        }

        Tree.Commit();
        foreach (var work in batch)
        {
            work.Complete();
        }

        foreach (var handler in Committed?.GetInvocationList() ?? [])
        {
            try
            {
                ((Action<long>)handler)(Tree.CommittedSize);
            }
            catch (Exception ex)
            {
                LogWriterError(ex);
            }
        }
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Error, Message = "The database writer caught an unexpected error and goes on")]
    private partial void LogWriterError(Exception exception);

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "A group commit of {Count} writes failed; none of them took effect")]
    private partial void LogCommitFailed(Exception exception, int count);

    private interface IWork
    {
        bool CancelIfRequested();

        void Run(WriteUnit context);

        void Fail(Exception exception);

        void Complete();
    }

    private sealed class Work<T>(Func<WriteUnit, T> write, CancellationToken cancellationToken) : IWork
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public bool CancelIfRequested() => cancellationToken.IsCancellationRequested && _completion.TrySetCanceled(cancellationToken);

        public void Run(WriteUnit context) => _result = write(context);

        public void Fail(Exception exception) => _error ??= exception;

        public void Complete()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }
    }
}
