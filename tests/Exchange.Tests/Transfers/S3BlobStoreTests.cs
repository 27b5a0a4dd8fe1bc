using System.Security.Cryptography;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Transfers;

/// <summary>The same transfer behaviour with revisions in an S3-compatible bucket (s3rver).</summary>
public sealed class S3BlobStoreTests(S3Server s3) : IClassFixture<S3Server>
{
    private ExchangeFactory Gateway()
    {
        s3.SkipUnlessAvailable();

        return ExchangeFactory.With([.. s3.Settings, ("Exchange:Transfers:ChunkSize", "65536")]);
    }

    [SkippableFact]
    public async Task A_multipart_upload_downloads_whole_and_from_an_offset_with_a_verifiable_receipt()
    {
        using var factory = Gateway();
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var content = RandomNumberGenerator.GetBytes((12 * 1024 * 1024) + 777);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        Assert.Equal(SHA256.HashData(content), revision.Sha256.ToByteArray());
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        var (header, bytes, trailer) = await initech.DownloadAllAsync(grant.Name);
        Assert.Equal(content, bytes);
        var verified = ReceiptVerifier.Verify(trailer.Receipt, AccessFixture.Expected(grant.Name, header, bytes), factory.LogKey());
        Assert.True(verified.Succeeded, verified.Message);
        Assert.False(Directory.Exists(Path.Combine(factory.DataDirectory, "blobs")));

        // Resume reads a byte range from the middle of the object.
        var path = Path.Combine(factory.DataDirectory, "copy.bin");
        using (var cancel = new CancellationTokenSource())
        {
            var stop = new CancelWhen(p => p.Bytes >= 5 * 1024 * 1024, cancel);
            await Assert.ThrowsAnyAsync<Exception>(() => initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research", Progress = stop }, cancel.Token));
        }

        var result = await initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research" });
        Assert.True(result.Resumed);
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
    }

    [SkippableFact]
    public async Task A_refused_upload_leaves_no_object_and_no_unfinished_upload()
    {
        using var factory = Gateway();
        using var acme = factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var before = Objects();

        using var call = acme.Transfers.Upload();
        await Rpc.FailsWith(StatusCode.InvalidArgument, async () =>
        {
            await call.RequestStream.WriteAsync(new UploadRequest
            {
                Header = new UploadHeader { Dataset = dataset.Name, MediaType = "text/plain", SizeBytes = 3 },
            });
            await call.RequestStream.WriteAsync(new UploadRequest { Chunk = Google.Protobuf.ByteString.CopyFromUtf8("too long") });
            await call.RequestStream.CompleteAsync();
            await call;
        });

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Objects().Length != before.Length && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(before, Objects());
    }

    private string[] Objects() =>
        Directory.Exists(s3.Directory)
            ? Directory.EnumerateFiles(s3.Directory, "*", SearchOption.AllDirectories).Where(f => !f.Contains("._S3rver", StringComparison.Ordinal)).Order().ToArray()
            : [];

}
