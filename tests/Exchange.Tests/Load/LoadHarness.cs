using System.Diagnostics;
using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Tests.Access;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Load;

/// <summary>
/// Load on the real gateway over loopback TLS, bounded in count and time: first many concurrent
/// downloads of one revision, every one verified, while the gateway's resident memory is sampled;
/// then a mixed workload of catalog reads, access requests and small downloads from many
/// virtual users, with throughput and latency percentiles per kind of call.
/// </summary>
internal sealed class LoadHarness(Action<string> log) : IAsyncDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "exchange-load", Guid.NewGuid().ToString("N"));
    private GatewayProcess? _gateway;

    /// <summary>
    /// One wave of downloads all started together; resident memory as sampled from the gateway
    /// process during it, and its managed heap as the last garbage collection after the wave left it
    /// (from its own metrics), which is what would grow if something leaked.
    /// </summary>
    public record DownloadFigures(int Downloads, long BytesEach, TimeSpan Elapsed, int PeakConcurrent, long MemoryBefore, long MemoryPeak, long MemoryAfter,
        long HeapAfter)
    {
        /// <summary>The live heap after a full collection forced once the wave ended (with EXCHANGE_LOAD_GCDUMP); null without it.</summary>
        public long? LiveHeap { get; init; }
    }

    public record CallFigures(string Kind, int Calls, int Errors, double PerSecond, TimeSpan P50, TimeSpan P99);

    public GatewayProcess Gateway => _gateway ??= new GatewayProcess(_data, log, "--Exchange:Limits:CallsPerSecond=0",
        "--Exchange:Limits:StreamsPerParticipant=5000", "--Exchange:Limits:MaxStreamsPerConnection=200");

    /// <summary>
    /// <paramref name="waves"/> waves of <paramref name="downloads"/> downloads of one
    /// <paramref name="size"/>-byte revision, each wave started together and every download verified.
    /// </summary>
    public async Task<IReadOnlyList<DownloadFigures>> ConcurrentDownloadsAsync(int downloads, int size, int waves)
    {
        await Gateway.StartAsync();
        using var acme = Gateway.Client(Participant.Acme);
        using var initech = Gateway.Client(Participant.Initech);
        var content = RandomNumberGenerator.GetBytes(size);
        var sha = SHA256.HashData(content);
        var dataset = await PublishedAsync(acme, content);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        // Warm up once, so the figures are of a running gateway rather than of its first call.
        await initech.DownloadAllAsync(grant.Name);
        await Task.Delay(500);
        var figures = new List<DownloadFigures>();
        for (var wave = 0; wave < waves; wave++)
        {
            figures.Add(await WaveAsync(grant.Name, downloads, size, sha));
        }

        return figures;
    }

    private async Task<DownloadFigures> WaveAsync(string grant, int downloads, int size, byte[] sha)
    {
        var before = Gateway.WorkingSet;
        var peak = before;
        var running = 0;
        var peakRunning = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Gateway.WorkingSet);
                await Task.Delay(50);
            }
        });

        // Several connections, as many clients would have; each carries up to the gateway's stream limit.
        var clients = Enumerable.Range(0, Math.Max(1, downloads / 100)).Select(_ => Gateway.Client(Participant.Initech)).ToList();
        using var start = new SemaphoreSlim(0);
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, downloads).Select(async i =>
        {
            await start.WaitAsync();
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peakRunning, now);
            try
            {
                using var call = clients[i % clients.Count].Transfers.Download(new DownloadRequest { Grant = grant, Purpose = "research" });
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long received = 0;
                await foreach (var message in call.ResponseStream.ReadAllAsync())
                {
                    if (message.PayloadCase == DownloadResponse.PayloadOneofCase.Chunk)
                    {
                        hash.AppendData(message.Chunk.Data.Span);
                        received += message.Chunk.Data.Length;
                    }
                }

                Assert.Equal(size, received);
                Assert.True(hash.GetHashAndReset().AsSpan().SequenceEqual(sha), "a download delivered other bytes");
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }).ToList();
        start.Release(downloads);
        await Task.WhenAll(tasks);
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        clients.ForEach(c => c.Dispose());
        await Task.Delay(1000);
        var figures = new DownloadFigures(downloads, size, watch.Elapsed, peakRunning, before, peak, Gateway.WorkingSet, await HeapAfterLastCollectionAsync());
        if (Environment.GetEnvironmentVariable("EXCHANGE_LOAD_GCDUMP") is { Length: > 0 } gcdump)
        {
            // dotnet-gcdump collects the gateway's heap after a full collection: what is really kept.
            var dump = Path.Combine(_data, $"wave-{Guid.NewGuid():N}.gcdump");
            var collecting = new ProcessStartInfo(gcdump, ["collect", "-p", Gateway.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", dump])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var collect = Process.Start(collecting)!;
            log($"gcdump: {(await collect.StandardOutput.ReadToEndAsync()).Trim()} {(await collect.StandardError.ReadToEndAsync()).Trim()}");
            await collect.WaitForExitAsync();
            using var report = Process.Start(new ProcessStartInfo(gcdump, ["report", dump]) { RedirectStandardOutput = true })!;
            var summary = (await report.StandardOutput.ReadToEndAsync()).Split('\n').FirstOrDefault(l => l.Contains("GC Heap bytes", StringComparison.Ordinal)) ?? "";
            await report.WaitForExitAsync();
            figures = figures with { LiveHeap = long.Parse(summary.Trim().Split(' ')[0], System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture) };
            log($"live heap after a full collection: {MiB(figures.LiveHeap.Value)} MiB");
        }

        log($"{downloads} concurrent downloads of {size} bytes ({peakRunning} running at once): {watch.Elapsed.TotalSeconds:0.0} s, " +
            $"{(double)downloads * size / watch.Elapsed.TotalSeconds / 1e6:0} MB/s; gateway memory {MiB(before)} MiB before, " +
            $"{MiB(peak)} MiB at peak (+{MiB(peak - before)}), {MiB(figures.MemoryAfter)} MiB after; managed heap after the last collection {MiB(figures.HeapAfter)} MiB");
        return figures;
    }

    /// <summary><paramref name="users"/> virtual users, each looping over a catalog read, a request and withdrawal, and a small download, for <paramref name="duration"/>.</summary>
    public async Task<IReadOnlyList<CallFigures>> MixedWorkloadAsync(int users, TimeSpan duration)
    {
        using var acme = Gateway.Client(Participant.Acme);
        using var initech = Gateway.Client(Participant.Initech);
        var small = await PublishedAsync(acme, RandomNumberGenerator.GetBytes(64 * 1024));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(small));
        var datasets = new List<Dataset>();
        for (var i = 0; i < 20; i++)
        {
            datasets.Add(await PublishedAsync(acme, RandomNumberGenerator.GetBytes(100)));
        }

        var latencies = new Dictionary<string, List<TimeSpan>> { ["catalog read"] = [], ["access request"] = [], ["download 64 KiB"] = [] };
        var errors = latencies.Keys.ToDictionary(k => k, _ => 0);
        var before = Gateway.WorkingSet;
        var peak = before;
        using var stop = new CancellationTokenSource(duration);
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Gateway.WorkingSet);
                await Task.Delay(100);
            }
        });

        async Task TimeAsync(string kind, Func<Task> call)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await call();
                lock (latencies)
                {
                    latencies[kind].Add(Stopwatch.GetElapsedTime(started));
                }
            }
            catch (RpcException)
            {
                lock (latencies)
                {
                    errors[kind]++;
                }
            }
        }

        var clients = Enumerable.Range(0, users).Select(u => Gateway.Client(new Participant($"user-{u}", "consumer"))).ToList();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async (client, u) =>
        {
            var random = new Random(u);
            using var consumer = Gateway.Client(Participant.Initech);
            while (!stop.IsCancellationRequested)
            {
                var dataset = datasets[random.Next(datasets.Count)];
                await TimeAsync("catalog read", async () =>
                {
                    await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 20 });
                    await client.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name });
                });
                await TimeAsync("access request", async () =>
                {
                    var request = await client.RequestAsync(dataset);
                    await client.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = request.Name });
                });
                await TimeAsync("download 64 KiB", () => consumer.DownloadAllAsync(grant.Name));
            }
        }));
        watch.Stop();
        await sampler;
        clients.ForEach(c => c.Dispose());

        var figures = latencies.Select(kind =>
        {
            var sorted = kind.Value.Order().ToList();
            return new CallFigures(kind.Key, sorted.Count, errors[kind.Key], sorted.Count / watch.Elapsed.TotalSeconds,
                sorted.Count == 0 ? TimeSpan.Zero : sorted[(int)(sorted.Count * 0.50)], sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * 0.99))]);
        }).ToList();
        foreach (var f in figures)
        {
            log($"{f.Kind}: {f.Calls} in {watch.Elapsed.TotalSeconds:0.0} s ({f.PerSecond:0}/s), p50 {f.P50.TotalMilliseconds:0.0} ms, p99 {f.P99.TotalMilliseconds:0.0} ms, {f.Errors} errors");
        }

        log($"mixed workload, {users} users: gateway memory {MiB(before)} MiB before, {MiB(peak)} MiB at peak");
        return figures;
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    /// <summary>A public dataset of <paramref name="provider"/>'s, published with one revision of <paramref name="content"/>.</summary>
    public static async Task<Dataset> PublishedAsync(ExchangeClient provider, byte[] content)
    {
        var dataset = (await provider.Catalog.CreateDatasetAsync(new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "load", Classification = Classification.Public },
        })).Dataset;
        await provider.UploadAsync(dataset.Name, new MemoryStream(content));
        return (await provider.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
    }

    /// <summary>The gateway's managed heap (all generations) as its last garbage collection left it, read from its Prometheus metrics.</summary>
    private async Task<long> HeapAfterLastCollectionAsync()
    {
        var roots = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        roots.ImportFromPemFile(GatewayProcess.CaFile);
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                return chain.Build(certificate!);
            },
        };
        using var http = new HttpClient(handler);
        http.DefaultRequestHeaders.Authorization = new("Bearer", ExchangeFactory.Token(Participant.Metrics.Id, Participant.Metrics.Roles));
        var scrape = await http.GetStringAsync(new Uri(Gateway.Address, "/metrics"));
        return (long)scrape.Split('\n')
            .Where(line => line.StartsWith("dotnet_gc_last_collection_heap_size", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static long MiB(long bytes) => bytes / (1024 * 1024);

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
