using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>
/// What differs between the engines that can hold the exchange's state: how connections open,
/// how the one write transaction of a group starts, the schema scripts, and the rare SQL that
/// has no common form. The stores themselves are written once, against System.Data.Common.
/// </summary>
internal abstract class DatabaseEngine
{
    /// <summary>Where the data lives, for logs and messages (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>Whether other processes may append to the same log, so a writer must look for their appends before its own.</summary>
    public abstract bool Shared { get; }

    /// <summary>Prepares the engine's storage (e.g. the directory of a database file) before the first connection.</summary>
    public virtual void Prepare()
    {
    }

    /// <summary>Drops idle pooled connections, after one turned out dead.</summary>
    public virtual void ClearPool()
    {
    }

    /// <summary>A connection for reads.</summary>
    public abstract DbConnection OpenReader();

    /// <summary>A connection for one read, opened without blocking a thread where the provider can; closed when the lease ends.</summary>
    public virtual async Task<ReaderLease> RentReaderAsync(CancellationToken cancellationToken) =>
        new(await OpenReaderAsync(cancellationToken), static (connection, _) => connection.Dispose());

    /// <summary>A connection for reads, opened without blocking a thread where the provider can.</summary>
    public virtual Task<DbConnection> OpenReaderAsync(CancellationToken cancellationToken) => Task.FromResult(OpenReader());

    /// <summary>A connection for the writer (and for migrations).</summary>
    public abstract DbConnection OpenWriter();

    /// <summary>Starts a group's transaction, holding the exchange-wide write lock until it ends.</summary>
    public abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Holds the schema lock while <paramref name="migrate"/> runs, so replicas starting together migrate once.</summary>
    public abstract T WithSchemaLock<T>(DbConnection connection, Func<T> migrate);

    /// <summary>A schema script of <see cref="Migrations"/> in this engine's SQL.</summary>
    public abstract string SchemaScript(Migration migration);

    /// <summary>
    /// Tells other replicas, once <paramref name="transaction"/> commits, that something changed
    /// (a revoked grant, the log's new size). Dropped if it rolls back.
    /// </summary>
    public abstract void Announce(DbConnection connection, DbTransaction transaction, string channel, string payload);
}
