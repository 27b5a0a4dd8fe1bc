using System.Security.Cryptography;
using Amazon.S3.Model;
using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Transfers;

/// <summary>
/// The S3 blob sink sends one part while the next is filled in the other buffer; the object
/// completed is exactly the bytes written, and a part that fails on its way fails the upload
/// with its own error, surfacing while later parts are filled, and no object appears.
/// </summary>
public sealed class S3BlobSinkTests(S3Server s3) : IClassFixture<S3Server>
{
    private const int PartSize = 5 * 1024 * 1024;

    // The sealed size of a default 256 KiB segment, so pieces do not line up with parts.
    private const int Piece = (256 * 1024) + 16;

    [SkippableFact]
    public async Task A_part_being_sent_is_not_touched_while_the_next_is_filled_and_the_object_reads_back_whole()
    {
        using var store = Store();
        var content = RandomNumberGenerator.GetBytes((3 * PartSize) + (PartSize / 2) + 7);
        var sent = 0;
        var inFlight = false;
        var filledWhileSending = 0;
        var blobId = LocalBlobStore.NewBlobId();
        var uploadId = await StartAsync(store, blobId);
        await using (var sink = new S3BlobSink(store, blobId, uploadId, async (number, part, cancellationToken) =>
        {
            Volatile.Write(ref inFlight, true);
            var before = part.ToArray();
            await Task.Delay(50, cancellationToken);
            Assert.Equal(before, part.ToArray());
            Volatile.Write(ref inFlight, false);
            Interlocked.Increment(ref sent);
            return await store.UploadPartAsync(blobId, uploadId, number, part, cancellationToken);
        }))
        {
            for (var at = 0; at < content.Length; at += Piece)
            {
                var length = Math.Min(Piece, content.Length - at);
                content.AsMemory(at, length).CopyTo(await sink.GetSpaceAsync(length, CancellationToken.None));
                filledWhileSending += Volatile.Read(ref inFlight) ? 1 : 0;
                await sink.AdvanceAsync(length, CancellationToken.None);
            }

            await sink.CommitAsync(CancellationToken.None);
        }

        Assert.Equal(4, sent);
        Assert.True(filledWhileSending > 0, "no piece was filled while a part was on its way: the sink waited for every part");
        await using var read = await store.OpenReadAsync(blobId, 0, CancellationToken.None);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [SkippableFact]
    public async Task A_part_that_fails_on_its_way_fails_the_upload_and_completes_no_object()
    {
        using var store = Store();
        var blobId = LocalBlobStore.NewBlobId();
        var uploadId = await StartAsync(store, blobId);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(async () =>
        {
            await using var sink = new S3BlobSink(store, blobId, uploadId, async (_, _, cancellationToken) =>
            {
                await Task.Delay(50, cancellationToken);
                throw new HttpRequestException("the bucket went away");
            });
            var content = RandomNumberGenerator.GetBytes(2 * PartSize);
            for (var at = 0; at < content.Length; at += Piece)
            {
                var length = Math.Min(Piece, content.Length - at);
                content.AsMemory(at, length).CopyTo(await sink.GetSpaceAsync(length, CancellationToken.None));
                await sink.AdvanceAsync(length, CancellationToken.None);
            }

            await sink.CommitAsync(CancellationToken.None);
        });

        Assert.Equal("the bucket went away", failure.Message);
        await Assert.ThrowsAsync<NoSuchKeyException>(() => store.OpenReadAsync(blobId, 0, CancellationToken.None));
    }

    /// <summary>Starts a multipart upload of <paramref name="blobId"/>, as the store does for a sink; returns its id.</summary>
    private static async Task<string> StartAsync(S3BlobStore store, string blobId) =>
        (await store.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = store.KeyOf(blobId) })).UploadId;

    private S3BlobStore Store()
    {
        s3.SkipUnlessAvailable();

        var settings = s3.Settings.ToDictionary(setting => setting.Key, setting => setting.Value);
        return new S3BlobStore(new S3Options
        {
            ServiceUrl = settings["Exchange:Blobs:S3:ServiceUrl"],
            Bucket = settings["Exchange:Blobs:S3:Bucket"],
            AccessKey = settings["Exchange:Blobs:S3:AccessKey"],
            SecretKey = settings["Exchange:Blobs:S3:SecretKey"],
            PartSize = PartSize,
        }, TimeProvider.System);
    }
}
