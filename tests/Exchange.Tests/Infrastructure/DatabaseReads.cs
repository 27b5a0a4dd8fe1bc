using System.Data.Common;
using Exchange.Server.Storage;

namespace Exchange.Tests.Infrastructure;

/// <summary>A test's own look into the gateway's database: a plain synchronous read on a pooled reader connection.</summary>
public static class DatabaseReads
{
    internal static Task<T> ReadAsync<T>(this Database database, Func<DbConnection, T> read, CancellationToken cancellationToken) =>
        database.ReadAsync((connection, _) => Task.FromResult(read(connection)), cancellationToken);
}
