using System.Collections.Concurrent;

namespace Exchange.Server.Transfers;

/// <summary>
/// The downloads this gateway is streaming now. Its heartbeat records how far each has got, so a
/// transfer failed by a crash resumes near where it stopped, and learns which ones another
/// gateway has meanwhile failed as orphans (it took this one for gone), which then stop here. A
/// stream whose end could not be recorded stays here until the heartbeat has failed its transfer.
/// </summary>
internal sealed class LiveTransfers
{
    private readonly ConcurrentDictionary<Stream, byte> _streams = new();

    /// <summary>Registers a stream of transfer <paramref name="id"/>; dispose the result when the stream ends.</summary>
    public Stream Add(TransferId id, long attempt, long offset)
    {
        var stream = new Stream(this, id, attempt, offset);
        _streams.TryAdd(stream, 0);
        return stream;
    }

    public IReadOnlyList<Stream> Snapshot() => [.. _streams.Keys];

    /// <summary>Forgets a stream that ended unrecorded, once its transfer has been failed.</summary>
    public void Remove(Stream stream) => _streams.TryRemove(stream, out _);

    /// <summary>One streaming attempt of a transfer: bytes handed over so far, and a token cancelled if it was superseded.</summary>
    internal sealed class Stream(LiveTransfers owner, TransferId id, long attempt, long offset) : IDisposable
    {
        // Never disposed: it has no timer, and the heartbeat may cancel it just as the stream ends.
        private readonly CancellationTokenSource _superseded = new();
        private long _sent = offset;

        public TransferId Id { get; } = id;

        public long Attempt { get; } = attempt;

        /// <summary>Where the stream is: its offset plus every byte whose write has completed.</summary>
        public long Sent => Volatile.Read(ref _sent);

        public CancellationToken Superseded => _superseded.Token;

        public bool WasSuperseded => _superseded.IsCancellationRequested;

        public void Advance(int bytes) => Interlocked.Add(ref _sent, bytes);

        /// <summary>True once the stream has ended without its end recorded (the database refused the write).</summary>
        public bool Unrecorded { get; private set; }

        public void Supersede() => _superseded.Cancel();

        /// <summary>Keeps this ended stream registered, for the heartbeat to fail its transfer once the database takes writes again.</summary>
        public void EndUnrecorded() => Unrecorded = true;

        public void Dispose()
        {
            if (!Unrecorded)
            {
                owner._streams.TryRemove(this, out _);
            }
        }
    }
}
