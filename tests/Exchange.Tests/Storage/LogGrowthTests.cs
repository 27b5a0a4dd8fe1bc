using System.Diagnostics;
using Exchange.Server.Storage;

namespace Exchange.Tests.Storage;

/// <summary>
/// Audit watches wait on <see cref="LogGrowth"/>; a commit must not pay for them: with fifty
/// thousand watches waiting, telling them the log grew costs the writer what it costs with none.
/// </summary>
public sealed class LogGrowthTests
{
    [Fact]
    public async Task Every_waiter_wakes_once_the_log_grows_past_what_it_waits_for()
    {
        long size = 0;
        await using var growth = new LogGrowth(() => Volatile.Read(ref size));
        var waiters = Enumerable.Range(0, 1000).Select(_ => growth.WaitAsync(0, CancellationToken.None)).ToList();
        var later = growth.WaitAsync(5, CancellationToken.None);

        Volatile.Write(ref size, 1);
        growth.Committed();

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(later.IsCompleted);
        Volatile.Write(ref size, 6);
        growth.Committed();
        await later.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    [Trait("Category", "Slow")] // a scale test: fifty thousand waiting watches, seconds
    public async Task A_commit_costs_the_writer_the_same_with_fifty_thousand_watches_as_with_none()
    {
        var alone = await WriterCostAsync(waiters: 0);
        var crowded = await WriterCostAsync(waiters: 50_000);

        // Work per watcher on the writer's path would make this thousands of times slower.
        Assert.True(crowded < alone * 20 + TimeSpan.FromMilliseconds(5),
            $"telling the log grew took {crowded.TotalMilliseconds:0.000} ms with 50,000 watches, {alone.TotalMilliseconds:0.000} ms with none");
    }

    /// <summary>The writer's side of 200 commits (the median of five runs), while <paramref name="waiters"/> watches keep waiting.</summary>
    private static async Task<TimeSpan> WriterCostAsync(int waiters)
    {
        long size = 0;
        await using var growth = new LogGrowth(() => Volatile.Read(ref size));
        using var stop = new CancellationTokenSource();
        var waiting = Enumerable.Range(0, waiters).Select(_ => growth.WaitAsync(long.MaxValue, stop.Token)).ToList();
        var runs = new List<TimeSpan>();
        for (var run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 200; i++)
            {
                Interlocked.Increment(ref size);
                growth.Committed();
            }

            runs.Add(clock.Elapsed);
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        await Task.WhenAll(waiting).ContinueWith(_ => { }, TaskScheduler.Default);
        return runs.Order().ElementAt(2);
    }
}
