using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Benchmarks.Compute;

/// <summary>
/// GROUP BY over a table of --rows rows (default 10 million) on one dimension with SUM and COUNT:
/// through the gateway (TLS, auth, rule check, the table decrypted and loaded once then kept,
/// DuckDB, thresholds, the query's audit event and receipt) against the same query run directly by
/// DuckDB in this process on an in-memory copy of the plaintext, in the same run. Read the ratio of
/// query rates. The gateway's first query, which decrypts and loads the table, is timed on its own.
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- compute [--rows 10000000] [--queries 20]
/// </summary>
internal static class ComputeBenchmark
{
    private const string Sql = "SELECT city, SUM(amount), COUNT(*) FROM data GROUP BY city";
    private static readonly string[] Cities = ["Bergen", "Oslo", "Tromsø", "Stavanger", "Trondheim", "Bodø", "Ålesund", "Kristiansand"];

    public static async Task<int> RunAsync(string[] args)
    {
        var rows = (long)Harness.Option(args, "--rows", 10_000_000);
        var queries = (int)Harness.Option(args, "--queries", 20);
        var certs = Path.Combine(Harness.RepositoryRoot(), "certs-dev");
        var work = Harness.WorkDirectory("compute");
        Directory.CreateDirectory(work);
        var csv = Path.Combine(work, "source.csv");
        var size = Generate(csv, rows);
        var port = Harness.FreePort();
        using var gateway = Harness.StartGateway(port, Path.Combine(work, "gateway"));
        try
        {
            using var acme = Unary.PlainClient.Connect(port, certs, Harness.Token(certs, "acme", "provider"));
            using var initech = Unary.PlainClient.Connect(port, certs, Harness.Token(certs, "initech", "consumer"));
            var catalog = new CatalogService.CatalogServiceClient(acme.Channel);
            await Harness.WaitUntilUpAsync(() => catalog.ListDatasetsAsync(new ListDatasetsRequest(), acme.Headers).ResponseAsync);
            Console.WriteLine($"// {rows:N0} rows ({size / 1048576.0:0} MiB of CSV: person, city, amount), {queries} queries each, TLS on loopback, " +
                $"{Environment.ProcessorCount} cores; query: {Sql}");

            var dataset = (await catalog.CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = "compute benchmark", Classification = Classification.Internal },
            }, acme.Headers)).Dataset;
            await UploadAsync(acme, dataset.Name, csv);
            await catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name }, acme.Headers);
            var rule = new AnalysisRule
            {
                Dimensions = { "city" },
                Aggregates = { new AggregateColumn { Column = "amount", Functions = { AggregateFunction.Sum, AggregateFunction.Count } } },
            };
            var access = new AccessService.AccessServiceClient(initech.Channel);
            var request = (await access.RequestAccessAsync(new RequestAccessRequest
            {
                Dataset = dataset.Name,
                Purpose = "benchmark",
                RequestedTerms = new Terms { Kind = GrantKind.Compute, Analysis = rule },
            }, initech.Headers)).AccessRequest;
            var grant = (await new AccessService.AccessServiceClient(acme.Channel).ApproveAccessRequestAsync(
                new ApproveAccessRequestRequest { Name = request.Name }, acme.Headers)).Grant;
            var compute = new ComputeService.ComputeServiceClient(initech.Channel);
            Task<RunQueryResponse> QueryAsync() =>
                compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = Sql }, initech.Headers).ResponseAsync;

            var load = Stopwatch.StartNew();
            var first = await QueryAsync();
            Console.WriteLine($"gateway first query (decrypts and loads the table): {load.Elapsed.TotalSeconds:0.00} s; " +
                $"{first.Result.Rows.Count} groups, {first.Result.SuppressedRows} suppressed");

            using var bare = new DuckDBConnection("DataSource=:memory:");
            bare.Open();
            var bareLoad = Stopwatch.StartNew();
            Execute(bare, $"CREATE TABLE data AS SELECT * FROM read_csv('{csv.Replace("'", "''", StringComparison.Ordinal)}', header = true)");
            Console.WriteLine($"bare DuckDB load of the plaintext CSV: {bareLoad.Elapsed.TotalSeconds:0.00} s");
            var expected = Answer(bare);
            var got = string.Join(";", first.Result.Rows.Select(r => string.Join(",", r.Values)).Order(StringComparer.Ordinal));
            if (expected != got)
            {
                // Timing two engines that disagree would compare different work.
                Console.WriteLine($"// ANSWERS DIFFER: bare {expected} vs gateway {got}");
                return 1;
            }

            Console.WriteLine("// both answer the same");

            // Alternating rounds, so both see the same machine state.
            var bareRates = new List<double>();
            var gatewayRates = new List<double>();
            for (var round = 0; round < 3; round++)
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < queries; i++)
                {
                    Answer(bare);
                }

                bareRates.Add(queries / watch.Elapsed.TotalSeconds);
                watch.Restart();
                for (var i = 0; i < queries; i++)
                {
                    await QueryAsync();
                }

                gatewayRates.Add(queries / watch.Elapsed.TotalSeconds);
            }

            var b = Harness.Median(bareRates);
            var g = Harness.Median(gatewayRates);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"GROUP BY city with SUM and COUNT over {rows:N0} rows: bare DuckDB {b:0.0} queries/s (runs {Harness.Runs(bareRates, "0.0")}), " +
                $"gateway {g:0.0} queries/s (runs {Harness.Runs(gatewayRates, "0.0")}); " +
                $"ratio {g / b:0.00} (goal >= 0.5) {(g / b >= 0.5 ? "MET" : "NOT MET")}"));
            return 0;
        }
        finally
        {
            Harness.Stop(gateway);
            Harness.DeleteDirectory(work);
        }
    }

    /// <summary>The bare query's groups as "city,sum,count" sorted, to compare with the gateway's answer.</summary>
    private static string Answer(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{reader.GetValue(0)},{reader.GetValue(1)},{reader.GetValue(2)}"));
        }

        return string.Join(";", lines.Order(StringComparer.Ordinal));
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>person, city, amount: a million people, eight cities, whole amounts.</summary>
    private static long Generate(string path, long rows)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        writer.WriteLine("person,city,amount");
        for (long id = 0; id < rows; id++)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"p{id % 1_000_000},{Cities[id % Cities.Length]},{id % 10_007}"));
        }

        writer.Flush();
        return new FileInfo(path).Length;
    }

    private static async Task UploadAsync(Unary.PlainClient client, string dataset, string path)
    {
        using var call = new TransferService.TransferServiceClient(client.Channel).Upload(client.Headers);
        await call.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset, MediaType = "text/csv" } });
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var buffer = new byte[256 * 1024];
        int read;
        while ((read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            await call.RequestStream.WriteAsync(new UploadRequest { Chunk = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)) });
        }

        await call.RequestStream.CompleteAsync();
        await call;
    }
}
