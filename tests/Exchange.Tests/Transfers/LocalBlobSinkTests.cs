using System.Security.Cryptography;
using Exchange.Server.Storage;
using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Microsoft.Win32.SafeHandles;

namespace Exchange.Tests.Transfers;

/// <summary>
/// The local blob sink writes one staging buffer while the next segments are sealed into the
/// other; whatever the segment size, the file placed is exactly the sealed revision.
/// </summary>
public sealed class LocalBlobSinkTests : IDisposable
{
    private const string Revision = "datasets/d/revisions/1";

    private readonly TemporaryDirectory _root = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public void Dispose() => _root.Dispose();

    [Theory]
    // Many segments to a block, with blocks that do not end on a segment's boundary.
    [InlineData(4096, (13 * 1024 * 1024) + 4321)]
    [InlineData(65536 + 100, (9 * 1024 * 1024) + 1)]
    // Segments of a quarter block, and larger than the staging buffers (which then grow).
    [InlineData(1024 * 1024, 9 * 1024 * 1024)]
    [InlineData(6 * 1024 * 1024, (20 * 1024 * 1024) + 17)]
    public async Task A_blob_written_a_block_at_a_time_reads_back_as_the_bytes_uploaded(int segment, int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        var blobs = new LocalBlobStore(_root.Path);
        string blobId;
        await using (var sink = await blobs.CreateAsync(CancellationToken.None))
        {
            await SealAsync(sink, content, segment);
            await sink.CommitAsync(CancellationToken.None);
            blobId = sink.BlobId;
        }

        var segments = RevisionCipher.SegmentCount(size, segment);
        Assert.Equal(RevisionCipher.HeaderSize + size + ((long)segments * RevisionCipher.TagSize), new FileInfo(blobs.PathOf(blobId)).Length);
        await AssertReadsBackAsync(blobs, blobId, content, segment);
    }

    [Fact]
    public async Task A_block_on_its_way_to_the_device_is_not_touched_while_the_next_is_sealed()
    {
        // Each write holds its bytes a while, as a slow device does, and checks they did not change meanwhile.
        var changed = 0;
        async ValueTask SlowWrite(SafeFileHandle file, ReadOnlyMemory<byte> bytes, long offset, CancellationToken cancellationToken)
        {
            var before = bytes.ToArray();
            await Task.Delay(50, cancellationToken);
            if (!bytes.Span.SequenceEqual(before))
            {
                Interlocked.Increment(ref changed);
            }

            await RandomAccess.WriteAsync(file, bytes, offset, cancellationToken);
        }

        var content = RandomNumberGenerator.GetBytes((13 * 1024 * 1024) + 5);
        var (blobs, sink) = Create(SlowWrite);
        await using (sink)
        {
            await SealAsync(sink, content, 65536);
            await sink.CommitAsync(CancellationToken.None);
        }

        Assert.Equal(0, changed);
        await AssertReadsBackAsync(blobs, sink.BlobId, content, 65536);
    }

    [Fact]
    public async Task A_disk_that_fills_while_the_next_block_is_sealed_fails_the_upload_as_full_and_leaves_no_file()
    {
        // The device refuses the first block after the sink has moved on to the next one, and takes the rest.
        static async ValueTask FullDisk(SafeFileHandle file, ReadOnlyMemory<byte> bytes, long offset, CancellationToken cancellationToken)
        {
            if (offset == 0)
            {
                await Task.Delay(20, cancellationToken);
                throw new IOException("No space left on device", 28);
            }

            await RandomAccess.WriteAsync(file, bytes, offset, cancellationToken);
        }

        var (_, sink) = Create(FullDisk);
        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await using (sink)
            {
                await SealAsync(sink, RandomNumberGenerator.GetBytes(6 * 1024 * 1024), 65536);
                await sink.CommitAsync(CancellationToken.None);
            }
        });

        Assert.True(StorageFull.Is(error), "a full disk must reach the caller as such (RESOURCE_EXHAUSTED), not as an internal error");
        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_blob_abandoned_after_blocks_were_written_leaves_no_file()
    {
        var (_, sink) = Create(null);
        await using (sink)
        {
            using var writer = new RevisionWriter(sink, _key, Revision, 65536);
            await writer.AppendAsync(RandomNumberGenerator.GetBytes(9 * 1024 * 1024), null, CancellationToken.None);
        }

        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*", SearchOption.AllDirectories));
    }

    private (LocalBlobStore Blobs, LocalBlobSink Sink) Create(Func<SafeFileHandle, ReadOnlyMemory<byte>, long, CancellationToken, ValueTask>? write)
    {
        var blobs = new LocalBlobStore(_root.Path);
        var temporary = Path.Combine(_root.Path, "tmp");
        Directory.CreateDirectory(temporary);
        var blobId = LocalBlobStore.NewBlobId();
        return (blobs, new LocalBlobSink(blobs, blobId, Path.Combine(temporary, $"{blobId}.part"), write));
    }

    private async Task AssertReadsBackAsync(LocalBlobStore blobs, string blobId, byte[] content, int segment)
    {
        await using var stored = new RevisionStream(blobs, blobId, _key, Revision, content.Length, segment);
        var read = new byte[content.Length];
        await stored.ReadExactlyAsync(read);
        Assert.Equal(content, read);
    }

    private async Task SealAsync(IBlobSink sink, byte[] content, int segment)
    {
        using var writer = new RevisionWriter(sink, _key, Revision, segment);
        for (var at = 0; at < content.Length; at += 100_000)
        {
            await writer.AppendAsync(content.AsMemory(at, Math.Min(100_000, content.Length - at)), null, CancellationToken.None);
        }

        await writer.FinishAsync(CancellationToken.None);
    }
}
