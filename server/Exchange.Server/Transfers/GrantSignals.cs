using System.Collections.Concurrent;

namespace Exchange.Server.Transfers;

/// <summary>
/// Lets a revocation reach the downloads running under the grant at once: each download holds a
/// lease whose token is cancelled when the grant is revoked. Nothing is queried per chunk.
/// </summary>
internal sealed class GrantSignals
{
    /// <summary>The channel on which a shared database announces revoked grants (by name) to every replica.</summary>
    public const string Channel = "exchange_grant_revoked";

    private readonly ConcurrentDictionary<string, Entry> _grants = new(StringComparer.Ordinal);

    /// <summary>A token cancelled when <paramref name="grant"/> is revoked; dispose the lease when the download ends.</summary>
    public Lease Watch(string grant)
    {
        while (true)
        {
            var entry = _grants.GetOrAdd(grant, _ => new Entry());
            lock (entry)
            {
                if (entry.Users >= 0)
                {
                    entry.Users++;
                    return new Lease(this, grant, entry);
                }
            }

            // The entry was being removed; take a fresh one.
        }
    }

    /// <summary>The grants that running downloads are under now.</summary>
    public IReadOnlyList<string> Watched() => [.. _grants.Keys];

    /// <summary>Stops every running download under <paramref name="grant"/>.</summary>
    public void Revoked(string grant)
    {
        if (_grants.TryGetValue(grant, out var entry))
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

    private void Release(string grant, Entry entry)
    {
        lock (entry)
        {
            if (--entry.Users > 0)
            {
                return;
            }

            entry.Users = -1;
        }

        _grants.TryRemove(new KeyValuePair<string, Entry>(grant, entry));
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

    internal sealed class Lease(GrantSignals owner, string grant, object entry) : IDisposable
    {
        private int _disposed;

        public CancellationToken Revoked => ((Entry)entry).Source.Token;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(grant, (Entry)entry);
            }
        }
    }
}
