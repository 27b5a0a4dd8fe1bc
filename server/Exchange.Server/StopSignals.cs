using System.Collections.Concurrent;
using System.Data.Common;
using Exchange.Server.Storage;

namespace Exchange.Server;

/// <summary>
/// Lets a change stop, at once, the streams that depend on it (a revoked grant's downloads, a
/// suspended participant's calls): each stream holds a lease on a key whose token is cancelled
/// when that key is stopped. Nothing is queried per chunk.
/// </summary>
internal sealed class StopSignals
{
    private readonly ConcurrentDictionary<string, Entry> _keys = new(StringComparer.Ordinal);

    /// <summary>A token cancelled when <paramref name="key"/> is stopped; dispose the lease when the stream ends.</summary>
    public Lease Watch(string key)
    {
        while (true)
        {
            var entry = _keys.GetOrAdd(key, _ => new Entry());
            lock (entry)
            {
                if (entry.Users >= 0)
                {
                    entry.Users++;
                    return new Lease(this, key, entry);
                }
            }

            // The entry was being removed; take a fresh one.
        }
    }

    /// <summary>The keys that running streams watch now.</summary>
    public IReadOnlyList<string> Watched() => [.. _keys.Keys];

    /// <summary>
    /// Stops the watched keys that <paramref name="stoppedAmong"/> finds stopped as stored: a query of one column of
    /// keys, its <c>{0}</c> the parameter list of a batch of watched keys (at most 500 a query). A listener catches
    /// up with it on what was announced while nobody listened.
    /// </summary>
    public async Task StopStoredAsync(DbConnection connection, string stoppedAmong, CancellationToken cancellationToken)
    {
        foreach (var batch in Watched().Chunk(500))
        {
            await using var command = connection.Command(string.Format(System.Globalization.CultureInfo.InvariantCulture, stoppedAmong,
                string.Join(", ", batch.Select((_, i) => $"@k{i}"))));
            for (var i = 0; i < batch.Length; i++)
            {
                command.With($"@k{i}", batch[i]);
            }

            foreach (var key in await command.ListAsync(reader => reader.GetString(0), cancellationToken))
            {
                Stop(key);
            }
        }
    }

    /// <summary>Stops every running stream that watches <paramref name="key"/>.</summary>
    public void Stop(string key)
    {
        if (_keys.TryGetValue(key, out var entry))
        {
            lock (entry)
            {
                // A released entry's source may be disposed already; nobody is listening to it then.
                if (entry.Users >= 0)
                {
                    entry.Source.Cancel();
                }
            }
        }
    }

    private void Release(string key, Entry entry)
    {
        lock (entry)
        {
            if (--entry.Users > 0)
            {
                return;
            }

            entry.Users = -1;
        }

        _keys.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        lock (entry)
        {
            entry.Source.Dispose();
        }
    }

    private sealed class Entry
    {
        public CancellationTokenSource Source { get; } = new();

        public int Users { get; set; }
    }

    internal sealed class Lease(StopSignals owner, string key, object entry) : IDisposable
    {
        private int _disposed;

        public CancellationToken Stopped => ((Entry)entry).Source.Token;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(key, (Entry)entry);
            }
        }
    }
}
