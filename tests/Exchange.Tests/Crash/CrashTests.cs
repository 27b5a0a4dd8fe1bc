using System.Globalization;
using Xunit.Abstractions;

namespace Exchange.Tests.Crash;

/// <summary>
/// The crash harness, short in every test run (EXCHANGE_CRASH_KILLS, default 5); the long run is
/// <c>EXCHANGE_CRASH_KILLS=100 dotnet test tests/Exchange.Tests --filter FullyQualifiedName~CrashTests</c>.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_gateway_killed_at_random_points_keeps_every_acknowledged_effect_and_nothing_half_done()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("EXCHANGE_CRASH_KILLS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 5;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("EXCHANGE_CRASH_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            ? s
            : Environment.TickCount & 0xFFFF;
        // A long run also writes its progress as it goes to EXCHANGE_CRASH_LOG, if set.
        var progress = Environment.GetEnvironmentVariable("EXCHANGE_CRASH_LOG");
        void Log(string line)
        {
            output.WriteLine(line);
            if (!string.IsNullOrEmpty(progress))
            {
                File.AppendAllText(progress, $"{DateTime.UtcNow:HH:mm:ss} {line}{Environment.NewLine}");
            }
        }

        Log($"seed {seed} (EXCHANGE_CRASH_SEED to repeat), {kills} kills");
        await using var harness = new CrashHarness(seed, Log);
        await harness.RunAsync(kills);
    }
}
