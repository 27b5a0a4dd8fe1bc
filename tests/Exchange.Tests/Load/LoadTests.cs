using System.Globalization;
using Xunit.Abstractions;

namespace Exchange.Tests.Load;

/// <summary>
/// The load harness, short in every test run. The full run (figures in the README):
/// <c>EXCHANGE_LOAD_DOWNLOADS=1000 EXCHANGE_LOAD_SECONDS=30 EXCHANGE_LOAD_GCDUMP=~/.dotnet/tools/dotnet-gcdump dotnet test tests/Exchange.Tests -c Release --filter FullyQualifiedName~LoadTests</c>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class LoadTests(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task Concurrent_downloads_all_verify_with_bounded_memory_per_download_and_a_mixed_workload_runs_without_errors()
    {
        var downloads = Setting("EXCHANGE_LOAD_DOWNLOADS", 100);
        var seconds = Setting("EXCHANGE_LOAD_SECONDS", 3);
        await using var harness = new LoadHarness(output.WriteLine);

        var waves = await harness.ConcurrentDownloadsAsync(downloads, 2 * 1024 * 1024, waves: 3);
        Assert.All(waves, wave => Assert.Equal(downloads, wave.PeakConcurrent));

        // What a running download holds is bounded: one segment, one message, the stream's share of the connection.
        var first = waves[0];
        Assert.True(first.MemoryPeak - first.MemoryBefore < downloads * 1024L * 1024,
            $"gateway memory grew {(first.MemoryPeak - first.MemoryBefore) / 1048576} MiB for {downloads} downloads");

        // Flat over time: with EXCHANGE_LOAD_GCDUMP (the path of dotnet-gcdump), the heap that survives a full
        // collection after each wave must not grow from wave to wave. Without the tool, resident memory is only
        // reported: garbage not yet collected cannot be told from memory kept from outside the process.
        if (waves.All(w => w.LiveHeap is not null))
        {
            Assert.True(waves[^1].LiveHeap <= (waves[0].LiveHeap * 1.1) + (16L * 1024 * 1024),
                $"the gateway keeps memory: {waves[0].LiveHeap / 1048576} MiB live after the first wave, {waves[^1].LiveHeap / 1048576} MiB after the last");
        }
        var calls = await harness.MixedWorkloadAsync(users: 20, TimeSpan.FromSeconds(seconds));
        Assert.All(calls, kind =>
        {
            Assert.True(kind.Calls > 0, $"no {kind.Kind} completed");
            Assert.Equal(0, kind.Errors);
        });
    }
}
