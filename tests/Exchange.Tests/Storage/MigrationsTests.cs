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

    [Fact]
    public void Version_7_indexes_the_text_of_the_datasets_already_there()
    {
        var engine = Engine("sqlite");
        using var connection = engine.OpenWriter();
        connection.Command("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, apply_time TEXT NOT NULL)").ExecuteNonQuery();
        for (var version = 1; version <= 6; version++)
        {
            connection.Command(engine.SchemaScript(Migrations.Scripts[version - 1])).ExecuteNonQuery();
            connection.Command("INSERT INTO schema_migrations (version, apply_time) VALUES (@v, 'then')").With("@v", version).ExecuteNonQuery();
        }

        connection.Command("""
            INSERT INTO datasets (seq, id, provider, title, description, classification, state, create_time, update_time)
            VALUES (1, 'a', 'acme', 'Weather Stations', 'Hourly', 1, 1, 0, 0), (2, 'b', 'acme', 'Tides', 'Daily', 1, 1, 0, 0);
            INSERT INTO dataset_tags (dataset_seq, position, tag) VALUES (1, 0, 'climate'), (1, 1, 'norway'), (2, 0, 'ocean');
            """).ExecuteNonQuery();

        Migrations.Apply(connection, engine, TimeProvider.System);

        long[] Match(string phrase)
        {
            using var reader = connection.Command("SELECT rowid FROM dataset_text WHERE dataset_text MATCH @m ORDER BY rowid")
                .With("@m", phrase).ExecuteReader();
            var seqs = new List<long>();
            while (reader.Read())
            {
                seqs.Add(reader.GetInt64(0));
            }

            return [.. seqs];
        }

        Assert.Equal([1L], Match("\"station\""));
        Assert.Equal([2L], Match("\"DAIly\""));
        Assert.Equal([1L], Match("\"norway\""));
        Assert.Equal([2L], Match("\"ocean\""));
        Assert.Empty(Match("\"atenor\""));
    }

    [SkippableTheory]
    [MemberData(nameof(Engines))]
    public void Version_14_totals_the_usage_already_charged_so_the_next_charge_counts_it(string kind)
    {
        var engine = Engine(kind);
        using var connection = engine.OpenWriter();
        connection.Command(engine.SchemaScript("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, apply_time TEXT NOT NULL)"))
            .ExecuteNonQuery();
        for (var version = 1; version <= 13; version++)
        {
            connection.Command(engine.SchemaScript(Migrations.Scripts[version - 1])).ExecuteNonQuery();
            connection.Command("INSERT INTO schema_migrations (version, apply_time) VALUES (@v, 'then')").With("@v", version).ExecuteNonQuery();
        }

        // Two charges and a reversal of one in December, one charge in November, under one grant; one charge under another.
        connection.Command("""
            INSERT INTO usage_records (id, grant_id, dataset_id, consumer, provider, offer, kind, units, amount_minor, fee_minor, currency,
                resource, event_index, charge_index, usage_period, period, charge_time)
            VALUES ('q-1', 'g', 'd', 'initech', 'acme', 'o', 5, 1, 700, 0, 'EUR', 'grants/g', 1, 2, '2026-12', '2026-12', 0),
                   ('q-3', 'g', 'd', 'initech', 'acme', 'o', 5, 1, 700, 0, 'EUR', 'grants/g', 3, 4, '2026-12', '2026-12', 0),
                   ('reversal-q-3', 'g', 'd', 'initech', 'acme', 'o', 5, -1, -700, 0, 'EUR', 'usageRecords/q-3', 3, 5, '2026-12', '2026-12', 0),
                   ('q-0', 'g', 'd', 'initech', 'acme', 'o', 5, 1, 500, 0, 'EUR', 'grants/g', 0, 1, '2026-11', '2026-11', 0),
                   ('q-6', 'h', 'd', 'umbrella', 'acme', 'o', 5, 1, 900, 0, 'EUR', 'grants/h', 6, 7, '2026-12', '2026-12', 0)
            """).ExecuteNonQuery();

        Migrations.Apply(connection, engine, TimeProvider.System);

        var totals = new List<string>();
        using (var reader = connection.Command("SELECT grant_id, usage_period, units, amount_minor FROM usage_totals ORDER BY grant_id, usage_period")
            .ExecuteReader())
        {
            while (reader.Read())
            {
                totals.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetInt64(2)} {reader.GetInt64(3)}");
            }
        }

        Assert.Equal(["g 2026-11 1 500", "g 2026-12 1 700", "h 2026-12 1 900"], totals);
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
