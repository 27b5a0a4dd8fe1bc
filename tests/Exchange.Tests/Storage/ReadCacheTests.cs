using Exchange.Server.Storage;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Storage;

/// <summary>
/// Catalog reads are answered from memory until the next write commits: a repeated read must not
/// reach the database, and no read may be answered from before a write its caller already saw.
/// </summary>
public sealed class ReadCacheTests
{
    [Fact]
    public async Task A_repeated_read_is_answered_from_memory_until_a_write_commits()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        var database = factory.Services.GetRequiredService<Database>();
        var cache = new ReadCache<string, int>(database, capacity: 10);
        var reads = 0;
        Task<int> Read(CancellationToken _) => Task.FromResult(Interlocked.Increment(ref reads));

        Assert.Equal(1, await cache.GetOrReadAsync("page", Read, default));
        Assert.Equal(1, await cache.GetOrReadAsync("page", Read, default));
        Assert.Equal(2, await cache.GetOrReadAsync("other page", Read, default));

        await CatalogFixture.CreateAsync(acme);
        Assert.Equal(3, await cache.GetOrReadAsync("page", Read, default));
        Assert.Equal(3, await cache.GetOrReadAsync("page", Read, default));
    }

    [Fact]
    public async Task A_read_that_overlaps_a_commit_is_not_served_after_it()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        var cache = new ReadCache<string, string>(factory.Services.GetRequiredService<Database>(), capacity: 10);

        // The read starts before the write and ends after it has committed: what it saw is from before.
        var reading = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var slow = cache.GetOrReadAsync("page", async _ =>
        {
            reading.SetResult();
            await release.Task;
            return "before the write";
        }, default);
        await reading.Task;
        await CatalogFixture.CreateAsync(acme);
        release.SetResult();
        Assert.Equal("before the write", await slow);

        Assert.Equal("after the write", await cache.GetOrReadAsync("page", _ => Task.FromResult("after the write"), default));
    }
}
