using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>
/// A reader connection for the length of one read. A pooling engine takes it back when the read
/// is done (with the statements it prepared, <see cref="DbExtensions.Prepared(DbConnection, string)"/>); the read may
/// <see cref="Discard"/> it instead when it broke.
/// </summary>
internal sealed class ReaderLease(DbConnection connection, Action<DbConnection, bool> giveBack) : IAsyncDisposable
{
    private bool _broken;

    public DbConnection Connection { get; } = connection;

    /// <summary>Closes the connection instead of giving it back.</summary>
    public void Discard() => _broken = true;

    public ValueTask DisposeAsync()
    {
        giveBack(Connection, _broken || Connection.State != System.Data.ConnectionState.Open);
        return ValueTask.CompletedTask;
    }
}
