using Exchange.Server.Hosting;
using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Exchange.Tests.Storage;

/// <summary>Versioned migrations on both engines: applied once, in order; a newer schema is refused; replicas starting together migrate once.</summary>
public sealed class MigrationsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"exchange-migrations-{Guid.NewGuid():N}.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    public static TheoryData<string> Engines => new() { "sqlite", "postgres" };

    private DatabaseEngine Engine(string kind, string? database = null) => kind == "sqlite"
        ? new SqliteEngine(_path)
        : new PostgresEngine(PostgresServer.Shared.ConnectionString(database ?? PostgresServer.Shared.CreateDatabase()));

    [SkippableTheory]
    [MemberData(nameof(Engines))]
    public void A_new_database_is_brought_to_the_latest_version_and_a_second_run_changes_nothing(string kind)
    {
        var engine = Engine(kind);
        using var connection = engine.OpenWriter();
        Assert.Equal(Migrations.LatestVersion, Migrations.Apply(connection, engine, TimeProvider.System));
        Assert.Equal(Migrations.LatestVersion, Migrations.Apply(connection, engine, TimeProvider.System));
        var applied = Convert.ToInt32(connection.Command("SELECT COUNT(*) FROM schema_migrations").ExecuteScalar());
        Assert.Equal(Migrations.LatestVersion, applied);
        if (kind == "sqlite")
        {
            Assert.Equal("wal", connection.Command("PRAGMA journal_mode").ExecuteScalar());
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Engines))]
    public void A_schema_newer_than_the_server_knows_is_refused(string kind)
    {
        var engine = Engine(kind);
        using var connection = engine.OpenWriter();
        Migrations.Apply(connection, engine, TimeProvider.System);
        connection.Command("INSERT INTO schema_migrations (version, apply_time) VALUES (@v, 'future')")
            .With("@v", Migrations.LatestVersion + 1).ExecuteNonQuery();

        var ex = Assert.Throws<StartupException>(() => Migrations.Apply(connection, engine, TimeProvider.System));
        Assert.Contains("newer than this server knows", ex.Message);
    }

    [SkippableFact]
    public async Task Replicas_starting_together_on_one_postgres_database_migrate_it_once()
    {
        var database = PostgresServer.Shared.CreateDatabase();
        var starts = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var engine = Engine("postgres", database);
            using var connection = engine.OpenWriter();
            return Migrations.Apply(connection, engine, TimeProvider.System);
        }));

        Assert.All(await Task.WhenAll(starts), version => Assert.Equal(Migrations.LatestVersion, version));
        var engine = Engine("postgres", database);
        using var connection = engine.OpenWriter();
        Assert.Equal(Migrations.LatestVersion, Convert.ToInt32(connection.Command("SELECT COUNT(*) FROM schema_migrations").ExecuteScalar()));
    }
}
