using System.Security.Cryptography;
using Exchange.Server.Transfers;

namespace Exchange.Tests.Transfers;

/// <summary>Local blobs read back exactly, from any offset and in any request sizes, across the direct reader's block boundaries.</summary>
public sealed class LocalBlobSourceTests : IDisposable
{
    private const int MaxRead = 300_000;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>Offsets on and off the 4 KiB alignment; request sizes that divide a 2 MiB block and that do not.</summary>
    public static TheoryData<long, int> Reads => new()
    {
        { 0, 16 },
        { 0, MaxRead },
        { 0, 262_160 },
        { 4096, 65_536 },
        { 5_000, 262_160 },
        { 2 * 1024 * 1024, 4097 },
        { (5 * 1024 * 1024) - 3, 1 },
        { (2 * 1024 * 1024) - 7, 299_999 },
        { (5 * 1024 * 1024) + 100, 1_000 },
    };

    [Theory]
    [MemberData(nameof(Reads))]
    public async Task Every_byte_from_the_offset_to_the_end_comes_back_in_order(long offset, int requestSize)
    {
        var (store, blobId, content) = Blob((5 * 1024 * 1024) + 123);
        await using var source = await store.OpenReadAsync(blobId, offset, MaxRead, CancellationToken.None);
        if (DirectlyReadable(store, blobId))
        {
            Assert.IsType<DirectBlobSource>(source);
        }

        using var read = new MemoryStream();
        while (true)
        {
            var bytes = await source.ReadAsync(requestSize, CancellationToken.None);
            read.Write(bytes.Span);
            if (bytes.Length < requestSize)
            {
                break;
            }
        }

        Assert.Equal(content.AsSpan((int)offset).ToArray(), read.ToArray());
        Assert.Equal(0, (await source.ReadAsync(requestSize, CancellationToken.None)).Length);
    }

    [Fact]
    public async Task A_write_to_the_file_made_through_the_page_cache_is_what_a_direct_read_sees()
    {
        // The tamper tests flip bytes with ordinary writes; a direct read must not miss them.
        var (store, blobId, content) = Blob(3 * 1024 * 1024);
        using (var file = new FileStream(store.PathOf(blobId), FileMode.Open, FileAccess.Write))
        {
            file.Position = 2_500_000;
            file.WriteByte((byte)(content[2_500_000] ^ 0xFF));
        }

        await using var source = await store.OpenReadAsync(blobId, 2_400_000, MaxRead, CancellationToken.None);
        var bytes = await source.ReadAsync(MaxRead, CancellationToken.None);

        Assert.Equal((byte)(content[2_500_000] ^ 0xFF), bytes.Span[100_000]);
    }

    private (LocalBlobStore Store, string BlobId, byte[] Content) Blob(int size)
    {
        var store = new LocalBlobStore(_root);
        var blobId = LocalBlobStore.NewBlobId();
        var content = RandomNumberGenerator.GetBytes(size);
        Directory.CreateDirectory(Path.GetDirectoryName(store.PathOf(blobId))!);
        File.WriteAllBytes(store.PathOf(blobId), content);
        return (store, blobId, content);
    }

    private static bool DirectlyReadable(LocalBlobStore store, string blobId)
    {
        using var probe = DirectFile.OpenRead(store.PathOf(blobId), out var direct);
        return direct;
    }
}
