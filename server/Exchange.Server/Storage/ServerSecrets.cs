using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Exchange.Server.Storage;

/// <summary>
/// Random secrets generated once per exchange and kept in its database, so that every
/// replica of one exchange shares them (e.g. the key that authenticates page tokens).
/// </summary>
internal static class ServerSecrets
{
    public static byte[] GetOrCreate(SqliteConnection connection, string name, int length)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        connection.Command("INSERT OR IGNORE INTO server_secrets (name, value) VALUES (@n, @v)", transaction)
            .With("@n", name)
            .With("@v", RandomNumberGenerator.GetBytes(length))
            .ExecuteNonQuery();
        var value = (byte[])connection.Command("SELECT value FROM server_secrets WHERE name = @n", transaction)
            .With("@n", name)
            .ExecuteScalar()!;
        transaction.Commit();
        return value;
    }
}
