using System.Collections.Concurrent;

namespace Exchange.Server.Storage;

/// <summary>
/// Answers of one kind of read, kept in memory until the next write to the database commits: a
/// catalog is read far more often than it changes, and a repeated read then costs a lookup instead
/// of a query. An answer is served only while the database is at the generation it was read at, so
/// a cached read never sees less than an uncached one would (a caller that got its write's answer
/// reads past it). Only where this process makes every write (SQLite); on a shared engine another
/// replica's write would not be seen here, so every read goes to the database.
/// </summary>
internal sealed class ReadCache<TKey, TValue>(Database database, int capacity)
    where TKey : notnull
{
    private Generation _current = new(-1);

    /// <summary>The cached answer for <paramref name="key"/>, or <paramref name="read"/>'s, kept for the next caller.</summary>
    public async Task<TValue> GetOrReadAsync(TKey key, Func<CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        if (!database.CachesReads)
        {
            return await read(cancellationToken);
        }

        // Taken before the read: a write committing meanwhile moves the database past it, so what
        // the read saw is never served as that write's generation or a later one.
        var generation = database.Generation;
        var entries = Volatile.Read(ref _current);
        if (entries.Number == generation && entries.Answers.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var value = await read(cancellationToken);
        if (entries.Number != generation || entries.Answers.Count >= capacity)
        {
            // A new generation starts empty; a full one starts over rather than stop caching.
            var fresh = new Generation(generation);
            entries = Interlocked.CompareExchange(ref _current, fresh, entries) == entries ? fresh : Volatile.Read(ref _current);
        }

        if (entries.Number == generation)
        {
            entries.Answers.TryAdd(key, value);
        }

        return value;
    }

    private sealed class Generation(long number)
    {
        public long Number { get; } = number;

        public ConcurrentDictionary<TKey, TValue> Answers { get; } = new();
    }
}
