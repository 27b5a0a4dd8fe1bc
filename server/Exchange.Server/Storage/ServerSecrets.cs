using System.Security.Cryptography;
using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>
/// Random secrets generated once per exchange and kept in its database, so that every
/// replica of one exchange shares them (e.g. the key that authenticates page tokens, and the
/// audit log's id, which is public but must likewise be generated once per log).
/// </summary>
internal static class ServerSecrets
{
    public static byte[] GetOrCreate(DbConnection connection, DatabaseEngine engine, string name, int length)
    {
        using var transaction = engine.BeginWrite(connection);
        connection.Command("INSERT INTO server_secrets (name, value) VALUES (@n, @v) ON CONFLICT (name) DO NOTHING", transaction)
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
