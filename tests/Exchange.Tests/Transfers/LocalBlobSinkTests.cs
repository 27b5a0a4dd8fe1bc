using System.Security.Cryptography;
using Exchange.Server.Transfers;

namespace Exchange.Tests.Transfers;

/// <summary>
/// The local blob sink writes one staging buffer while the next segments are sealed into the
/// other; whatever the segment size, the file placed is exactly the sealed revision.
/// </summary>
public sealed class LocalBlobSinkTests : IDisposable
{
    private const string Revision = "datasets/d/revisions/1";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

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
        var blobs = new LocalBlobStore(_root);
        string blobId;
        await using (var sink = await blobs.CreateAsync(CancellationToken.None))
        {
            using (var writer = new RevisionWriter(sink, _key, Revision, segment))
            {
                for (var at = 0; at < size; at += 100_000)
                {
                    await writer.AppendAsync(content.AsMemory(at, Math.Min(100_000, size - at)), null, CancellationToken.None);
                }

                await writer.FinishAsync(CancellationToken.None);
            }

            await sink.CommitAsync(CancellationToken.None);
            blobId = sink.BlobId;
        }

        var segments = RevisionCipher.SegmentCount(size, segment);
        Assert.Equal(RevisionCipher.HeaderSize + size + ((long)segments * RevisionCipher.TagSize), new FileInfo(blobs.PathOf(blobId)).Length);
        await using var stored = new RevisionStream(blobs, blobId, _key, Revision, size, segment);
        var read = new byte[size];
        await stored.ReadExactlyAsync(read);
        Assert.Equal(content, read);
    }

    [Fact]
    public async Task A_blob_abandoned_after_blocks_were_written_leaves_no_file()
    {
        var blobs = new LocalBlobStore(_root);
        await using (var sink = await blobs.CreateAsync(CancellationToken.None))
        {
            using var writer = new RevisionWriter(sink, _key, Revision, 65536);
            await writer.AppendAsync(RandomNumberGenerator.GetBytes(9 * 1024 * 1024), null, CancellationToken.None);
        }

        Assert.Empty(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
    }
}
