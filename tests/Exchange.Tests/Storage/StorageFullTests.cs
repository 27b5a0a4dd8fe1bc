using Exchange.Server.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Exchange.Tests.Storage;

/// <summary>Which failures count as a full disk (RESOURCE_EXHAUSTED for the caller), from each store, as it really reports them.</summary>
public sealed class StorageFullTests
{
    [Fact]
    public void Sqlite_out_of_pages_is_a_full_disk_and_its_other_errors_are_not()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE TABLE t (v BLOB)");
        Execute(connection, "PRAGMA max_page_count = 4");
        var full = Assert.Throws<SqliteException>(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                Execute(connection, "INSERT INTO t VALUES (randomblob(1000))");
            }
        });

        Assert.True(StorageFull.Is(full));
        using var other = new SqliteConnection("Data Source=:memory:");
        other.Open();
        Assert.False(StorageFull.Is(Assert.Throws<SqliteException>(() => Execute(other, "SELECT * FROM missing"))));
    }

    [Fact]
    public void Postgres_disk_full_is_a_full_disk_and_other_states_are_not()
    {
        Assert.True(StorageFull.Is(new PostgresException("could not extend file: No space left on device", "ERROR", "ERROR", "53100")));
        Assert.False(StorageFull.Is(new PostgresException("too many connections", "FATAL", "FATAL", "53300")));
    }

    [Fact]
    public void A_write_to_a_full_device_is_a_full_disk_and_other_io_errors_are_not()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var device = File.OpenHandle("/dev/full", FileMode.Open, FileAccess.Write);
        Assert.True(StorageFull.Is(Assert.Throws<IOException>(() => RandomAccess.Write(device, new byte[4096], 0))));
        Assert.False(StorageFull.Is(Assert.ThrowsAny<IOException>(() => File.OpenHandle(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "missing")))));
        Assert.False(StorageFull.Is(new InvalidOperationException("No space left on device")));
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
