using System.Diagnostics;
using System.Globalization;
using System.Text;
using Exchange.V1;
using Google.Protobuf;
using nietras.SeparatedValues;

namespace Exchange.Benchmarks.Tables;

/// <summary>
/// A CSV of about --gib GiB (10 columns: numbers, dates, times, strings) through the gateway:
/// uploaded as a table (profiled as it streams) against the same bytes uploaded as opaque data;
/// and downloaded under a view that drops half the columns, keeps half the rows and masks two,
/// against a bare baseline in this process that reads the plaintext file with the same CSV
/// library (Sep), keeps the same rows and writes the same columns (to nowhere). Both rates count
/// the source table's bytes per second. Then the gateway's resident memory through one such download.
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- table [--gib 1] [--rounds 3]
/// </summary>
internal static class TableBenchmark
{
    private const double GiB = 1024.0 * 1024 * 1024;
    private const int Chunk = 256 * 1024;

    private static readonly string[] Cities = ["Bergen", "Oslo", "Tromsø", "Stavanger", "Trondheim", "Bodø", "Ålesund", "Kristiansand"];
    private static readonly string[] Kept = ["Bergen", "Oslo", "Tromsø", "Stavanger"];
    private static readonly string[] Delivered = ["id", "city", "day", "amount", "email"];

    public static async Task<int> RunAsync(string[] args)
    {
        var gib = Harness.Option(args, "--gib", 1.0);
        var rounds = (int)Harness.Option(args, "--rounds", 3);
        var certs = Path.Combine(Harness.RepositoryRoot(), "certs-dev");
        var work = Harness.WorkDirectory("table");
        Directory.CreateDirectory(work);
        var csv = Path.Combine(work, "source.csv");
        var size = Generate(csv, (long)(gib * GiB));
        if (args.Contains("--local"))
        {
            // The table code alone, in this process, on the plaintext: what profiling and a view cost without network or cryptography.
            Local(csv, size, rounds, args.Contains("view") ? "view" : args.Contains("profile") ? "profile" : "all");
            Harness.DeleteDirectory(work);
            return 0;
        }

        var data = Path.Combine(work, "gateway");
        var port = Harness.FreePort();
        using var gateway = Harness.StartGateway(port, data);
        try
        {
            using var acme = Unary.PlainClient.Connect(port, certs, Harness.Token(certs, "acme", "provider"));
            using var initech = Unary.PlainClient.Connect(port, certs, Harness.Token(certs, "initech", "consumer"));
            var catalog = new CatalogService.CatalogServiceClient(acme.Channel);
            await Harness.WaitUntilUpAsync(() => catalog.ListDatasetsAsync(new ListDatasetsRequest(), acme.Headers).ResponseAsync);
            Console.WriteLine($"// a {size / GiB:0.00} GiB CSV of 10 columns, {rounds} rounds, TLS on loopback, {Environment.ProcessorCount} cores");
            var dataset = (await catalog.CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = "table benchmark", Classification = Classification.Internal },
            }, acme.Headers)).Dataset;

            // Uploads: the same bytes as a table and as opaque data, alternating, after one untimed each.
            await UploadAsync(acme, dataset.Name, csv, "text/csv");
            await UploadAsync(acme, dataset.Name, csv, "application/octet-stream");
            var opaque = new List<double>();
            var tabular = new List<double>();
            var (opaqueCpu, tabularCpu) = (new List<(double, double)>(), new List<(double, double)>());
            for (var round = 0; round < rounds; round++)
            {
                opaque.Add(await CpuAsync(gateway, size, opaqueCpu, () => RateAsync(size, () => UploadAsync(acme, dataset.Name, csv, "application/octet-stream"))));
                tabular.Add(await CpuAsync(gateway, size, tabularCpu, () => RateAsync(size, () => UploadAsync(acme, dataset.Name, csv, "text/csv"))));
            }

            Report("upload as a table (profiled) vs as opaque bytes", opaque, tabular, 0.7);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"upload CPU seconds per GiB, medians: opaque gateway {Harness.Median(opaqueCpu.Select(c => c.Item1)):0.00} + client {Harness.Median(opaqueCpu.Select(c => c.Item2)):0.00}; " +
                $"table gateway {Harness.Median(tabularCpu.Select(c => c.Item1)):0.00} + client {Harness.Median(tabularCpu.Select(c => c.Item2)):0.00}; " +
                $"{Environment.ProcessorCount} cores (gateway runs: opaque {Harness.Runs(opaqueCpu.Select(c => c.Item1), "0.00")}; table {Harness.Runs(tabularCpu.Select(c => c.Item1), "0.00")})"));
            if (args.Contains("--upload-only"))
            {
                return 0;
            }

            // The latest revision is the table; grant a view of half its columns and rows, two masked.
            await catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name }, acme.Headers);
            var view = Viewed();
            async Task<Grant> GrantAsync(Unary.PlainClient consumer, View asked)
            {
                var request = (await new AccessService.AccessServiceClient(consumer.Channel).RequestAccessAsync(
                    new RequestAccessRequest { Dataset = dataset.Name, Purpose = "benchmark", RequestedTerms = new Terms { View = asked } }, consumer.Headers)).AccessRequest;
                return (await new AccessService.AccessServiceClient(acme.Channel).ApproveAccessRequestAsync(
                    new ApproveAccessRequestRequest { Name = request.Name }, acme.Headers)).Grant;
            }

            var grant = await GrantAsync(initech, view);

            // The same view with two cheaper masks (month of a date, the first 4 characters of the email instead of its HMAC):
            // what the delivery costs apart from HMAC-SHA256.
            var light = view.Clone();
            light.Masks[1] = new Mask { Column = "email", Kind = MaskKind.Truncate, Length = 4 };
            using var umbrella = Unary.PlainClient.Connect(port, certs, Harness.Token(certs, "umbrella", "consumer"));
            var lightGrant = await GrantAsync(umbrella, light);

            var expected = Bare(csv);
            var got = await Harness.DownloadAsync(initech, grant.Name);
            await Harness.DownloadAsync(umbrella, lightGrant.Name);
            Console.WriteLine($"// the view delivers {got / 1048576.0:0} MiB of the {size / 1048576.0:0} MiB table (bare writes {expected / 1048576.0:0} MiB, unmasked)");
            var bare = new List<double>();
            var viewed = new List<double>();
            var lighter = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                bare.Add(await RateAsync(size, () => Task.FromResult(Bare(csv))));
                viewed.Add(await RateAsync(size, () => Harness.DownloadAsync(initech, grant.Name)));
                lighter.Add(await RateAsync(size, () => Harness.DownloadAsync(umbrella, lightGrant.Name)));
            }

            Report("download under a view, masks month and HMAC (table bytes per second) vs bare Sep projection and filter of the plaintext file", bare, viewed, 0.5);
            Report("download under a view, masks month and truncate", bare, lighter, 0.5);

            var (before, peak) = await Harness.ResidentAsync(gateway, () => Harness.DownloadAsync(initech, grant.Name));
            Console.WriteLine(Harness.MemoryLine(before, peak, "a download under the view"));
            return 0;
        }
        finally
        {
            Harness.Stop(gateway);
            Harness.DeleteDirectory(work);
        }
    }

    private static void Local(string csv, long size, int rounds, string only)
    {
        Schema? profiled = null;
        for (var round = 0; round < rounds; round++)
        {
            var bare = Stopwatch.StartNew();
            if (only == "all")
            {
                Bare(csv);
            }

            var bareSeconds = bare.Elapsed.TotalSeconds;

            var profile = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            if (only != "view" || profiled is null)
            {
                profiled = Profile(csv);
            }

            var schema = profiled;
            var profileSeconds = profile.Elapsed.TotalSeconds;
            if (only == "profile")
            {
                var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"local: profile {size / profileSeconds / 1e9:0.000} GB/s, {cpuSeconds / (size / GiB):0.00} CPU seconds per GiB"));
                continue;
            }

            var view = Viewed();
            var deliver = Stopwatch.StartNew();
            var plan = new Exchange.Server.Tables.ViewPlan(view, schema.Columns, new byte[32]);
            var masks = plan.NewMasks();
            using (var source = File.OpenRead(csv))
            using (var reader = Exchange.Server.Tables.TableFormats.Reader(TableFormat.Csv, source, schema.Columns))
            using (var writer = Exchange.Server.Tables.TableFormats.Writer(TableFormat.Csv, new CountingStream(), plan.Columns))
            {
                while (reader.Read())
                {
                    plan.Deliver(reader, writer, masks);
                }

                writer.Finish();
            }

            Exchange.Server.Tables.ColumnMask.DisposeAll(masks);
            var deliverSeconds = deliver.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"local: bare Sep {size / bareSeconds / 1e9:0.000} GB/s; profile {size / profileSeconds / 1e9:0.000} GB/s; view {size / deliverSeconds / 1e9:0.000} GB/s; " +
                $"columns ({string.Join(", ", schema.Columns.Select(c => c.Name + ":" + c.Type))})"));
        }
    }

    /// <summary>Half the columns, the rows of half the cities, the day to its month and the email hashed.</summary>
    private static View Viewed()
    {
        var view = new View
        {
            RowFilter = new Predicate { Comparison = new Comparison { Column = "city", Operator = ComparisonOperator.In, Values = { Kept } } },
            Masks =
            {
                new Mask { Column = "day", Kind = MaskKind.Generalise, Unit = DateUnit.Month },
                new Mask { Column = "email", Kind = MaskKind.Hash },
            },
        };
        view.Columns.Add(Delivered);
        return view;
    }

    private static Schema Profile(string csv)
    {
        var profiler = new Exchange.Server.Tables.CsvProfiler(new Schema(), strict: false, maxColumns: 1000, maxRowBytes: 4 << 20);
        using (var file = File.OpenRead(csv))
        {
            var buffer = new byte[Chunk];
            int read;
            while ((read = file.Read(buffer)) > 0)
            {
                profiler.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }

        return profiler.FinishAsync().GetAwaiter().GetResult().Schema;
    }

    /// <summary>Writes rows until the file holds about <paramref name="target"/> bytes; returns its size.</summary>
    private static long Generate(string path, long target)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        writer.WriteLine("id,name,city,day,at,amount,score,flag,email,note");
        var start = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        long written = 0;
        for (long id = 1; written < target; id++)
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{id},name-{id % 100_000},{Cities[id % Cities.Length]},{start.AddDays(id % 2000):yyyy-MM-dd},{start.AddSeconds(id * 37):yyyy-MM-ddTHH:mm:ssZ}," +
                $"{id % 100_000 / 100m:0.00},{Math.Sqrt(id):0.######},{(id % 3 == 0 ? "true" : "false")},user{id % 500_000}@example.org," +
                $"{(id % 5 == 0 ? "" : "\"a note, with a comma\"")}");
            writer.WriteLine(line);
            written += Encoding.UTF8.GetByteCount(line) + 1;
        }

        writer.Flush();
        return new FileInfo(path).Length;
    }

    /// <summary>The baseline: the same rows and columns, read and written with Sep, no network, no cryptography; returns the bytes it wrote.</summary>
    private static long Bare(string csv)
    {
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromFile(csv);
        var counting = new CountingStream();
        using (var writer = Sep.New(',').Writer(o => o with { Escape = true }).To(counting))
        {
            var columns = Delivered.Select(name => reader.Header.IndexOf(name)).ToArray();
            var city = reader.Header.IndexOf("city");
            foreach (var row in reader)
            {
                if (!IsKept(row[city].Span))
                {
                    continue;
                }

                using var output = writer.NewRow();
                for (var i = 0; i < columns.Length; i++)
                {
                    output[Delivered[i]].Set(row[columns[i]].Span);
                }
            }
        }

        return counting.Length;
    }

    private static bool IsKept(ReadOnlySpan<char> city)
    {
        foreach (var kept in Kept)
        {
            if (city.SequenceEqual(kept))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task UploadAsync(Unary.PlainClient client, string dataset, string path, string mediaType)
    {
        using var call = new TransferService.TransferServiceClient(client.Channel).Upload(client.Headers);
        await call.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset, MediaType = mediaType } });
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var buffer = new byte[Chunk];
        int read;
        while ((read = await file.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            await call.RequestStream.WriteAsync(new UploadRequest { Chunk = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)) });
        }

        await call.RequestStream.CompleteAsync();
        await call;
    }

    /// <summary>Runs <paramref name="work"/>, adding the gateway's and this process's CPU seconds per GiB to <paramref name="cpu"/>.</summary>
    private static async Task<double> CpuAsync(Process gateway, long size, List<(double Gateway, double Client)> cpu, Func<Task<double>> work)
    {
        gateway.Refresh();
        var (server, client) = (gateway.TotalProcessorTime, Process.GetCurrentProcess().TotalProcessorTime);
        var rate = await work();
        gateway.Refresh();
        cpu.Add(((gateway.TotalProcessorTime - server).TotalSeconds * GiB / size, (Process.GetCurrentProcess().TotalProcessorTime - client).TotalSeconds * GiB / size));
        return rate;
    }

    private static async Task<double> RateAsync(long size, Func<Task> work)
    {
        var watch = Stopwatch.StartNew();
        await work();
        return size / watch.Elapsed.TotalSeconds / 1e9;
    }

    private static void Report(string what, List<double> baseline, List<double> measured, double goal)
    {
        var b = Harness.Median(baseline);
        var m = Harness.Median(measured);
        Console.WriteLine($"{what}: baseline {b:0.000} GB/s (runs {Harness.Runs(baseline, "0.000")}), " +
            $"measured {m:0.000} GB/s (runs {Harness.Runs(measured, "0.000")}); " +
            $"ratio {m / b:0.00} (goal >= {goal:0.0}) {(m / b >= goal ? "MET" : "NOT MET")}");
    }

    /// <summary>A stream that only counts what is written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
