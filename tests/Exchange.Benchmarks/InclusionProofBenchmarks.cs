using BenchmarkDotNet.Attributes;
using Exchange.Server.Audit;
using Exchange.Server.Storage;
using Exchange.Transparency;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Exchange.Benchmarks;

/// <summary>
/// Inclusion-proof latency on large logs: the server's proof path (ranges, one indexed read of
/// O(log n) stored subtrees, hashing) against a bare primary-key read of one stored hash. The
/// trees are built once into the temp folder (exchange-bench/tree-N.db) and reused by later runs.
/// </summary>
public class InclusionProofBenchmarks
{
    private Database _database = null!;
    private AuditStore _store = null!;
    private Random _random = null!;

    [Params(1_000_000, 10_000_000)]
    public long Leaves { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(Path.GetTempPath(), "exchange-bench", $"tree-{Leaves}.db");
        if (!File.Exists(path))
        {
            Build(path, Leaves);
        }

        _database = new Database(new SqliteEngine(path), TimeProvider.System, NullLogger<Database>.Instance);
        _store = new AuditStore(_database);
        _random = new Random(42);
    }

    [Benchmark(Baseline = true)]
    public Task<byte[]> BarePrimaryKeyRead()
    {
        var id = AuditTree.NodeId(0, _random.NextInt64(Leaves));
        return _database.ReadAsync(async (c, ct) => (byte[])(await c.Command($"SELECT hash FROM audit_nodes WHERE id = {id}").ExecuteScalarAsync(ct))!,
            CancellationToken.None);
    }

    [Benchmark]
    public Task<List<byte[]>> InclusionProof() =>
        _store.RangeHashesAsync(MerkleProofRanges.Inclusion(_random.NextInt64(Leaves), Leaves), CancellationToken.None);

    private static void Build(string path, long leaves)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var building = path + ".building";
        File.Delete(building);
        using (var connection = new SqliteConnection($"Data Source={building};Pooling=False"))
        {
            connection.Open();
            connection.Command("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;").ExecuteNonQuery();
            Migrations.Apply(connection, new SqliteEngine(building), TimeProvider.System);
            var tree = new AuditTree();
            using var insert = connection.Command("INSERT INTO audit_nodes (id, hash) VALUES (@id, @hash)");
            var id = insert.Parameter("@id");
            var hash = insert.Parameter("@hash");
            Span<byte> leaf = stackalloc byte[16];
            for (long start = 0; start < leaves; start += 1_000_000)
            {
                using var transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                for (var i = start; i < Math.Min(leaves, start + 1_000_000); i++)
                {
                    BitConverter.TryWriteBytes(leaf, i);
                    tree.Append(Rfc6962.LeafHash(leaf), (nodeId, nodeHash) =>
                    {
                        id.Value = nodeId;
                        hash.Value = nodeHash;
                        insert.ExecuteNonQuery();
                    });
                }

                transaction.Commit();
                Console.WriteLine($"// built {Math.Min(leaves, start + 1_000_000):N0} of {leaves:N0} leaves");
            }
        }

        File.Move(building, path);
    }
}
