using DuckDB.NET.Data;

namespace Exchange.Server.Compute;

/// <summary>
/// One decrypted table in an in-memory DuckDB database: the connection that owns it and its
/// columns. Shared by the queries that lease it; closed once evicted and no longer leased.
/// </summary>
internal sealed class LoadedTable(string key)
{
    private readonly CancellationTokenSource _abandon = new();
    private int _leases;
    private bool _evicted;

    public string Key { get; } = key;

    /// <summary>Set when loading finished.</summary>
    public Task<(DuckDBConnection Connection, IReadOnlyDictionary<string, TableColumn> Columns)> Loaded { get; set; } = null!;

    /// <summary>Takes a lease; under the engine's lock.</summary>
    public void Lease() => _leases++;

    /// <summary>Gives a lease back; true when the table should now be closed. Under the engine's lock.</summary>
    public bool Release() => --_leases == 0 && _evicted;

    /// <summary>Cancelled once every query that waited for the table has gone before it loaded.</summary>
    public CancellationToken Abandoned => _abandon.Token;

    /// <summary>
    /// When nothing leases it and it is still loading: marks it evicted and returns true, and the engine
    /// forgets it and <see cref="Cancel"/>s its load. Under the engine's lock.
    /// </summary>
    public bool Abandon()
    {
        if (_leases > 0 || _evicted || Loaded.IsCompleted)
        {
            return false;
        }

        _evicted = true;
        return true;
    }

    public void Cancel() => _abandon.Cancel();

    /// <summary>Marks it evicted; true when nothing leases it, so it can be closed now. Under the engine's lock.</summary>
    public bool Evict()
    {
        _evicted = true;
        return _leases == 0;
    }

    /// <summary>Closes the database once loading is over (a failed load has nothing to close).</summary>
    public void Close() => Loaded.ContinueWith(t =>
    {
        if (t.IsCompletedSuccessfully)
        {
            t.Result.Connection.Dispose();
        }

        _abandon.Dispose();
    }, TaskScheduler.Default);
}
