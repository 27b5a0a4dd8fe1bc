using System.Security.Cryptography;
using Exchange.Server.Transfers;

namespace Exchange.Tests.Transfers;

/// <summary>The writer gives each received buffer back only once it no longer needs it, whatever the chunking.</summary>
public sealed class RevisionWriterTests
{
    private const int Segment = 4096;
    private const string Revision = "datasets/d/revisions/1";

    /// <summary>Chunks smaller than, equal to, a multiple of and larger than a segment, over sizes that end on and off a segment boundary.</summary>
    public static TheoryData<int, int> Chunkings => new()
    {
        { 0, Segment },
        { Segment, Segment },
        { 3 * Segment, Segment },
        { 3 * Segment, 2 * Segment },
        { 3 * Segment, 3 * Segment },
        { (3 * Segment) + 5, (3 * Segment) + 5 },
        { 5 * Segment, (2 * Segment) + 1 },
        { (4 * Segment) + 17, 1000 },
        { (4 * Segment) + 17, Segment - 1 },
        { 2 * Segment, Segment + 1 },
    };

    [Theory]
    [MemberData(nameof(Chunkings))]
    public async Task A_buffer_given_back_is_never_read_again(int size, int chunk)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        var key = RandomNumberGenerator.GetBytes(32);
        var sink = new MemorySink();
        var leases = new List<PoisoningLease>();
        using (var writer = new RevisionWriter(sink, key, Revision, Segment))
        {
            for (var at = 0; at < size; at += chunk)
            {
                // Each chunk in its own buffer, which is overwritten the moment it is given back.
                var lease = new PoisoningLease(content.AsSpan(at, Math.Min(chunk, size - at)).ToArray());
                leases.Add(lease);
                await writer.AppendAsync(lease.Buffer, lease, CancellationToken.None);
            }

            Assert.Equal(SHA256.HashData(content), await writer.FinishAsync(CancellationToken.None));
        }

        Assert.All(leases, lease => Assert.Equal(1, lease.Disposals));
        Assert.Equal(content, await ReadAsync(sink.Bytes.ToArray(), key, size));
    }

    [Fact]
    public async Task A_buffer_still_held_is_given_back_when_the_writer_is_abandoned()
    {
        var lease = new PoisoningLease(new byte[Segment]);
        using (var writer = new RevisionWriter(new MemorySink(), RandomNumberGenerator.GetBytes(32), Revision, Segment))
        {
            await writer.AppendAsync(lease.Buffer, lease, CancellationToken.None);

            // A whole segment waits to learn whether it is the last one, by reference.
            Assert.Equal(0, lease.Disposals);
        }

        Assert.Equal(1, lease.Disposals);
    }

    private static async Task<byte[]> ReadAsync(byte[] stored, byte[] key, long size)
    {
        using var plain = new MemoryStream();
        await foreach (var part in RevisionReader.ReadAsync(new MemoryStream(stored), key, Revision, size, Segment, 0, Segment, CancellationToken.None))
        {
            plain.Write(part.Span);
        }

        return plain.ToArray();
    }

    private sealed class PoisoningLease(byte[] buffer) : IDisposable
    {
        public byte[] Buffer { get; } = buffer;

        public int Disposals { get; private set; }

        public void Dispose()
        {
            Disposals++;
            Buffer.AsSpan().Fill(0xEE);
        }
    }

    private sealed class MemorySink : IBlobSink
    {
        private byte[] _space = [];

        public MemoryStream Bytes { get; } = new();

        public string BlobId => "memory";

        public ValueTask<Memory<byte>> GetSpaceAsync(int length, CancellationToken cancellationToken)
        {
            _space = new byte[length];
            return ValueTask.FromResult(_space.AsMemory());
        }

        public ValueTask AdvanceAsync(int length, CancellationToken cancellationToken)
        {
            Bytes.Write(_space, 0, length);
            return ValueTask.CompletedTask;
        }

        public Task CommitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
