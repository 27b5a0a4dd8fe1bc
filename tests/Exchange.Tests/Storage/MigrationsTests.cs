using Exchange.Server.Hosting;
using Exchange.Server.Storage;
using Microsoft.Data.Sqlite;

namespace Exchange.Tests.Storage;

public sealed class MigrationsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"exchange-migrations-{Guid.NewGuid():N}.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    [Fact]
    public void A_new_database_is_brought_to_the_latest_version_and_a_second_run_changes_nothing()
    {
        var database = new Database(_path, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Database>.Instance);
        using (var connection = database.Open())
        {
            Assert.Equal(Migrations.LatestVersion, Migrations.Apply(connection));
            Assert.Equal(Migrations.LatestVersion, Migrations.Apply(connection));
            var applied = Convert.ToInt32(connection.Command("SELECT COUNT(*) FROM schema_migrations").ExecuteScalar());
            Assert.Equal(Migrations.LatestVersion, applied);
            Assert.Equal("wal", connection.Command("PRAGMA journal_mode").ExecuteScalar());
        }
    }

    [Fact]
    public void A_schema_newer_than_the_server_knows_is_refused()
    {
        var database = new Database(_path, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Database>.Instance);
        using var connection = database.Open();
        Migrations.Apply(connection);
        connection.Command("INSERT INTO schema_migrations (version, apply_time) VALUES (@v, 'future')")
            .With("@v", Migrations.LatestVersion + 1).ExecuteNonQuery();

        var ex = Assert.Throws<StartupException>(() => Migrations.Apply(connection));
        Assert.Contains("newer than this server knows", ex.Message);
    }
}
