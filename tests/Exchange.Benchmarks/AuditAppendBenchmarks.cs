using BenchmarkDotNet.Attributes;
using Exchange.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Exchange.Benchmarks;

/// <summary>
/// Durable audit appends per second through the gateway's group-committing writer (leaf hash,
/// subtree hashes, indexed event row, fsync per group), against bare SQLite inserts of the same
/// leaf bytes committed in groups of the same size with the same durability (synchronous=FULL).
/// </summary>
public class AuditAppendBenchmarks
{
    private const int Appends = 16_384;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-bench", Guid.NewGuid().ToString("N"));
    private readonly AuditEntry _entry = new("acme", "dataset.publish", "datasets/abcdefabcdef", Outcome.Success,
        Dataset: "datasets/abcdefabcdef", DatasetProvider: "acme", Details: new Dictionary<string, string> { ["reason"] = "benchmark" });

    private Database _database = null!;
    private System.Data.Common.DbConnection _bare = null!;
    private byte[] _leaf = null!;

    /// <summary>Concurrent callers, as many requests in flight at once.</summary>
    [Params(64)]
    public int Writers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var engine = new SqliteEngine(Path.Combine(_directory, "exchange.db"));
        using (var connection = engine.OpenWriter())
        {
            Migrations.Apply(connection, engine, TimeProvider.System);
        }

        _database = new Database(engine, TimeProvider.System, NullLogger<Database>.Instance);
        _leaf = _entry.Encode(DateTimeOffset.UtcNow);
        _bare = new SqliteEngine(Path.Combine(_directory, "bare.db")).OpenWriter();
        _bare.Command("CREATE TABLE leaves (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL)").ExecuteNonQuery();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _database.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _bare.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Appends)]
    public void BareSqliteInsertsInGroups()
    {
        using var insert = _bare.Command("INSERT INTO leaves (leaf) VALUES (@leaf)");
        insert.With("@leaf", _leaf);
        for (var done = 0; done < Appends; done += Writers)
        {
            using var transaction = _bare.BeginTransaction();
            insert.Transaction = transaction;
            for (var i = 0; i < Writers; i++)
            {
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    [Benchmark(OperationsPerInvoke = Appends)]
    public Task GroupCommittedAuditAppends() =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < Appends / Writers; i++)
            {
                await _database.WriteAsync(context => context.Record(_entry), CancellationToken.None);
            }
        })));
}
