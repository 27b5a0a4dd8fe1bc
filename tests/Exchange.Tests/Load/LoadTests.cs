using System.Globalization;
using Xunit.Abstractions;

namespace Exchange.Tests.Load;

/// <summary>
/// The load harness, short in every test run. The full run (figures in the README):
/// <c>EXCHANGE_LOAD_DOWNLOADS=1000 EXCHANGE_LOAD_SECONDS=30 dotnet test tests/Exchange.Tests -c Release --filter FullyQualifiedName~LoadTests</c>.
/// </summary>
public sealed class LoadTests(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task Concurrent_downloads_all_verify_with_bounded_gateway_memory_and_a_mixed_workload_runs_without_errors()
    {
        var downloads = Setting("EXCHANGE_LOAD_DOWNLOADS", 100);
        var seconds = Setting("EXCHANGE_LOAD_SECONDS", 3);
        await using var harness = new LoadHarness(output.WriteLine);

        var transfer = await harness.ConcurrentDownloadsAsync(downloads, 2 * 1024 * 1024);
        Assert.Equal(downloads, transfer.PeakConcurrent);
        // Flat: what a download holds is bounded (a segment, a message, flow-control windows), and it is given back.
        Assert.True(transfer.MemoryPeak - transfer.MemoryBefore < downloads * 1024L * 1024,
            $"gateway memory grew {(transfer.MemoryPeak - transfer.MemoryBefore) / 1048576} MiB for {downloads} downloads");
        Assert.True(transfer.MemoryAfter - transfer.MemoryBefore < 256L * 1024 * 1024,
            $"gateway memory stayed {(transfer.MemoryAfter - transfer.MemoryBefore) / 1048576} MiB above where it started");

        var calls = await harness.MixedWorkloadAsync(users: 20, TimeSpan.FromSeconds(seconds));
        Assert.All(calls, kind =>
        {
            Assert.True(kind.Calls > 0, $"no {kind.Kind} completed");
            Assert.Equal(0, kind.Errors);
        });
    }
}
