using System.Data;
using System.Diagnostics;
using System.Data.Common;
using System.Globalization;
using System.Threading.Channels;

namespace Exchange.Server.Storage;

/// <summary>
/// The exchange's database, on whichever engine is configured. All writes of this process go
/// through one writer that commits them in groups: each unit of work runs in its own savepoint
/// inside a shared transaction, so a failing unit rolls back alone, and one fsync makes the whole
/// group durable. A caller's task completes only after its group has committed. On a shared
/// engine the group first takes the exchange-wide write lock and catches up with the log other
/// replicas appended.
/// </summary>
internal sealed partial class Database : IAsyncDisposable
{
    private const int MaxBatch = 512;

    /// <summary>The channel on which a shared engine announces the log's committed size.</summary>
    public const string LogChannel = "exchange_log";

    /// <summary>The log's size as stored, whichever replica appended last.</summary>
    public const string StoredLogSizeQuery = "SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_events";

    /// <summary>Spans of group commits, under a source of its own as data libraries have (OpenTelemetry adds it by name).</summary>
    public static readonly ActivitySource Tracing = new("Exchange.Storage");

    private readonly Channel<IWork> _queue = Channel.CreateUnbounded<IWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly ILogger<Database> _logger;
    private DbConnection? _writer;
    private long _announcedSize;

    // The committing group's announcements to this replica; only the writer touches it.
    private readonly List<(string Channel, string Payload)> _announced = [];
    private long _generation;
    private WriteUnit? _context;
    private readonly Task _writerLoop;

    /// <summary>Loads the audit tree and starts the writer: the schema must be current (<see cref="StorageInitializer"/>).</summary>
    public Database(DatabaseEngine engine, TimeProvider time, ILogger<Database> logger)
    {
        Engine = engine;
        CachesReads = !engine.Shared;
        _time = time;
        _logger = logger;
        Growth = new LogGrowth(() => LogSize);
        _writer = Engine.OpenWriter();
        Tree.Load(_writer, null);
        _context = new WriteUnit(_writer, Tree, Engine);
        _writerLoop = Task.Run(RunWriterAsync);
    }

    public DatabaseEngine Engine { get; }

    /// <summary>The audit tree the writer appends to.</summary>
    public AuditTree Tree { get; } = new();

    /// <summary>Wakes audit watches after each group commit here, or news of one elsewhere.</summary>
    public LogGrowth Growth { get; }

    /// <summary>Leaves durably in the log, as far as this process knows: its own commits, or a larger size another replica announced.</summary>
    public long LogSize => Math.Max(Tree.CommittedSize, Volatile.Read(ref _announcedSize));

    /// <summary>
    /// Counts the group commits of this process: a read taken at one generation saw every write
    /// committed before it (<see cref="ReadCache{TKey, TValue}"/>).
    /// </summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// Whether reads may be answered from memory (<see cref="ReadCache{TKey, TValue}"/>): only where every write to the
    /// database is this process's own, so <see cref="Generation"/> tells when a read goes stale; and Exchange:Database:CacheReads.
    /// </summary>
    public bool CachesReads { get; set; }

    /// <summary>Raised on the writer after each group commit that appended to the log, with the number of events it appended.</summary>
    public event Action<long>? Appended;

    /// <summary>
    /// Raised on the writer after a group commit, for each announcement its units made (channel, payload): this
    /// replica hears its own at once; the others hear them from the shared database.
    /// </summary>
    public event Action<string, string>? AnnouncedHere;

    /// <summary>
    /// Runs <paramref name="read"/> on a pooled reader connection, asynchronously where the engine
    /// is (PostgreSQL); SQLite's provider completes the same calls synchronously.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var lease = await Engine.RentReaderAsync(cancellationToken);
            var connection = lease.Connection;
            try
            {
                return await read(connection, cancellationToken);
            }
            catch (DbException) when (attempt == 1 && connection.State != ConnectionState.Open)
            {
                // A pooled connection the database had dropped (a restart, a failover): reads have no
                // effects, so the read runs once more, on a fresh connection (the closed one is not pooled again).
                Engine.ClearPool();
            }
            catch
            {
                // A failed read may leave its connection mid-statement: it is closed, not pooled again.
                lease.Discard();
                throw;
            }
        }
    }

    /// <summary>Another replica committed the log up to <paramref name="size"/> leaves: readers and watchers here may go that far.</summary>
    public void Announced(long size)
    {
        long seen;
        do
        {
            seen = Volatile.Read(ref _announcedSize);
            if (size <= seen)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _announcedSize, size, seen) != seen);
        Growth.Committed();
    }

    /// <summary>
    /// Runs <paramref name="write"/> in the writer's transaction and returns its result once that
    /// transaction has committed. If it throws, its changes (and audit records) are rolled back and
    /// the exception is rethrown here. A call cancelled before its turn does not run at all.
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
        await _writerLoop;

        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }

        await Growth.DisposeAsync();
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
        var announced = _announced;
        announced.Clear();
        var start = Tree.Save();
        using var activity = Tracing.StartActivity("exchange.db.commit");
        activity?.SetTag("exchange.db.units", batch.Count);
        try
        {
            using var transaction = BeginGroup();
            var context = _context!;
            if (Engine.Shared)
            {
                CatchUp(transaction);
                start = Tree.Save();
            }

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
                    announced.AddRange(context.Announced);
                }
                catch (Exception ex)
                {
                    transaction.Rollback("work");
                    Tree.Restore(mark);
                    work.Fail(ex);
                    transaction.Release("work");
                }
            }

            if (Engine.Shared && Tree.Size != start.Size)
            {
                Engine.Announce(_writer!, transaction, LogChannel, Tree.Size.ToString(CultureInfo.InvariantCulture));
            }

            transaction.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of the group is durable: forget its appends and fail every unit still waiting.
            // (Cached reads start over all the same: a commit that failed late may still have landed.)
            Tree.Restore(start);
            Interlocked.Increment(ref _generation);
            LogCommitFailed(ex, batch.Count);
            foreach (var work in batch)
            {
                work.Fail(ex);
                work.Complete();
            }

            if (_writer!.State != ConnectionState.Open)
            {
                try
                {
                    Reconnect();
                }
                catch (Exception reconnect)
                {
                    // The database is still away; the next group tries again.
                    LogWriterError(reconnect);
                }
            }

            return;
        }

        Tree.Commit();
        // Before any caller hears of its write, so a read it makes next cannot be served from before it.
        Interlocked.Increment(ref _generation);
        if (Tree.Size != start.Size)
        {
            Appended?.Invoke(Tree.Size - start.Size);
        }

        foreach (var (channel, payload) in announced)
        {
            AnnouncedHere?.Invoke(channel, payload);
        }

        foreach (var work in batch)
        {
            work.Complete();
        }

        Growth.Committed();
    }

    /// <summary>
    /// Starts a group's transaction. A server connection can die while the writer waits (a database
    /// restart, a failover, an idle cut); then nothing of the group has run yet, so it goes on over a
    /// new connection.
    /// </summary>
    private DbTransaction BeginGroup()
    {
        try
        {
            return Engine.BeginWrite(_writer!);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException && _writer!.State != ConnectionState.Open)
        {
            Reconnect();
            return Engine.BeginWrite(_writer!);
        }
    }

    private void Reconnect()
    {
        LogReconnecting();
        _writer!.Dispose();
        _writer = Engine.OpenWriter();
        _context = new WriteUnit(_writer, Tree, Engine);
    }

    /// <summary>Under the write lock: if other replicas appended since this writer last did, continue from their right edge.</summary>
    private void CatchUp(DbTransaction transaction)
    {
        var stored = Convert.ToInt64(_writer!.Command(StoredLogSizeQuery, transaction).ExecuteScalar(),
            CultureInfo.InvariantCulture);
        // Equal sizes mean nobody else appended: the log only grows under this lock.
        if (stored != Tree.Size)
        {
            Tree.Load(_writer!, transaction);
        }
    }

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "The database writer lost its connection and opens a new one")]
    private partial void LogReconnecting();

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
