using System.Globalization;
using System.Security.Cryptography;
using Exchange.Server.Tables;
using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Transfers;

/// <summary>A stored revision read as a seekable stream: any position gives the uploaded bytes, and damaged bytes never come out.</summary>
public sealed class RevisionStreamTests : IDisposable
{
    private const int Segment = 4096;
    private const string Revision = "datasets/d/revisions/1";

    private readonly TemporaryDirectory _root = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Segment)]
    [InlineData((5 * Segment) + 123)]
    public async Task Reads_at_random_positions_across_segment_boundaries_give_the_uploaded_bytes(int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        var (blobs, blobId) = await StoreAsync(content);
        await using var stream = new RevisionStream(blobs, blobId, _key, Revision, size, Segment);
        Assert.Equal((size, true, true, false), (stream.Length, stream.CanRead, stream.CanSeek, stream.CanWrite));

        var random = new Random(size);
        for (var i = 0; i < 200; i++)
        {
            var at = random.Next(size + 1);
            var want = random.Next(2 * Segment);
            var read = new byte[want];
            stream.Position = at;
            // Alternately synchronous and asynchronous: readers of both kinds use the same stream.
            var count = i % 2 == 0 ? await stream.ReadAtLeastAsync(read, want, throwOnEndOfStream: false) : stream.ReadAtLeast(read, want, throwOnEndOfStream: false);
            Assert.Equal(Math.Min(want, size - at), count);
            Assert.Equal(content.AsSpan(at, count).ToArray(), read.AsSpan(0, count).ToArray());
            Assert.Equal(at + count, stream.Position);
        }

        stream.Seek(-Math.Min(size, 10), SeekOrigin.End);
        using var tail = new MemoryStream();
        await stream.CopyToAsync(tail);
        Assert.Equal(content.AsSpan(size - Math.Min(size, 10)).ToArray(), tail.ToArray());
    }

    [Fact]
    public async Task A_tampered_segment_is_data_loss_and_gives_none_of_its_bytes()
    {
        var content = RandomNumberGenerator.GetBytes(3 * Segment);
        var (blobs, blobId) = await StoreAsync(content);
        var path = blobs.PathOf(blobId);
        var stored = await File.ReadAllBytesAsync(path);
        stored[RevisionCipher.SegmentOffset(1, Segment) + 10] ^= 1;
        await File.WriteAllBytesAsync(path, stored);

        await using var stream = new RevisionStream(blobs, blobId, _key, Revision, content.Length, Segment);
        var first = new byte[Segment];
        Assert.Equal(Segment, await stream.ReadAtLeastAsync(first, Segment));
        Assert.Equal(content.AsSpan(0, Segment).ToArray(), first);

        var error = await Assert.ThrowsAsync<RpcException>(() => stream.ReadAsync(new byte[10], 0, 10));
        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Contains("segment 1 does not authenticate", error.Status.Detail);

        // Past the damage the revision reads on, and the damaged segment stays refused.
        stream.Position = 2 * Segment;
        Assert.Equal(content[2 * Segment], (byte)stream.ReadByte());
        stream.Position = Segment + 5;
        Assert.Equal(StatusCode.DataLoss, Assert.Throws<RpcException>(() => stream.ReadByte()).StatusCode);
    }

    [Fact]
    public async Task A_parquet_file_stored_in_many_segments_reads_through_the_stream_as_from_memory()
    {
        // Parquet reads its footer first, then jumps back to each column chunk.
        Column[] columns = [new() { Name = "n", Type = ColumnType.Int64 }, new() { Name = "s", Type = ColumnType.String }];
        using var file = new MemoryStream();
        using (var writer = TableFormats.Writer(TableFormat.Parquet, file, columns))
        {
            for (var i = 0; i < 70_000; i++)
            {
                writer.Set(0, i.ToString(CultureInfo.InvariantCulture));
                writer.Set(1, i % 7 == 0 ? "" : $"row {i}");
                writer.EndRow();
            }

            writer.Finish();
        }

        var content = file.ToArray();
        Assert.True(content.Length > 20 * Segment);
        var (blobs, blobId) = await StoreAsync(content);
        await using var stored = new RevisionStream(blobs, blobId, _key, Revision, content.Length, Segment);
        using var fromStore = TableFormats.Reader(TableFormat.Parquet, stored);
        using var fromMemory = TableFormats.Reader(TableFormat.Parquet, new MemoryStream(content));
        var rows = 0;
        while (fromMemory.Read())
        {
            Assert.True(fromStore.Read());
            Assert.Equal((fromMemory[0].ToString(), fromMemory[1].ToString()), (fromStore[0].ToString(), fromStore[1].ToString()));
            rows++;
        }

        Assert.False(fromStore.Read());
        Assert.Equal(70_000, rows);
    }

    private async Task<(LocalBlobStore Blobs, string BlobId)> StoreAsync(byte[] content)
    {
        var blobs = new LocalBlobStore(_root.Path);
        await using var sink = await blobs.CreateAsync(CancellationToken.None);
        using (var writer = new RevisionWriter(sink, _key, Revision, Segment))
        {
            // Chunks that do not line up with segments.
            for (var at = 0; at < content.Length; at += 1000)
            {
                await writer.AppendAsync(content.AsMemory(at, Math.Min(1000, content.Length - at)), null, CancellationToken.None);
            }

            await writer.FinishAsync(CancellationToken.None);
        }

        await sink.CommitAsync(CancellationToken.None);
        return (blobs, sink.BlobId);
    }
}
