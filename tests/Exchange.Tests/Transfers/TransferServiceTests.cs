using System.Security.Cryptography;
using Exchange.Client.Transfers;
using Exchange.Server.Storage;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Transfers;

public sealed class TransferServiceTests : IDisposable
{
    private readonly ExchangeFactory _factory = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", "65536"));

    public void Dispose() => _factory.Dispose();

    private static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    /// <summary>A listed dataset whose latest revision holds <paramref name="content"/>, and a grant for initech.</summary>
    private Task<(Dataset Dataset, Revision Revision, Grant Grant)> SharedAsync(byte[] content, Terms? terms = null) =>
        SharedAsync(_factory, content, terms);

    private static async Task<(Dataset Dataset, Revision Revision, Grant Grant)> SharedAsync(ExchangeFactory factory, byte[] content, Terms? terms = null)
    {
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research", terms));
        return (dataset, revision, grant);
    }

    [Fact]
    public async Task An_upload_becomes_a_revision_and_a_download_returns_exactly_its_bytes_with_a_verifiable_receipt()
    {
        var content = RandomBytes((4 * 65536) + 1234);
        var (dataset, revision, grant) = await SharedAsync(content);
        Assert.Equal((dataset.Name + "/revisions/2", content.Length), (revision.Name, (int)revision.SizeBytes));
        Assert.Equal(SHA256.HashData(content), revision.Sha256.ToByteArray());

        using var initech = _factory.As(Participant.Initech);
        var (header, bytes, trailer) = await initech.DownloadAllAsync(grant.Name);

        Assert.Equal(content, bytes);
        Assert.Equal((revision.Name, revision.SizeBytes, revision.Sha256), (header.Revision, header.SizeBytes, header.Sha256));
        Assert.Equal(SHA256.HashData(content), trailer.Sha256.ToByteArray());
        var verified = ReceiptVerifier.Verify(trailer.Receipt, AccessFixture.Expected(grant.Name, header, bytes), _factory.LogKey());
        Assert.True(verified.Succeeded, verified.Message);
        Assert.Equal("transfer.complete", trailer.Receipt.Event.Action);

        var transfer = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = header.Transfer })).Transfer;
        Assert.Equal((TransferState.Completed, (long)content.Length, "research"), (transfer.State, transfer.BytesSent, transfer.Purpose));
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
        using var acme = _factory.As(Participant.Acme);
        Assert.Single((await acme.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers);
    }

    /// <summary>Chunks smaller than, equal to and larger than the 64 KiB segment, over sizes that end on and off a segment boundary.</summary>
    public static TheoryData<int, int> ChunkingsOfOneRevision => new()
    {
        { 0, 65536 },
        { 65536, 65536 },
        { 3 * 65536, 65536 },
        { 3 * 65536, 1000 },
        { 3 * 65536, 100_000 },
        { (4 * 65536) + 1234, 65536 },
        { (4 * 65536) + 1234, 200_000 },
        { (2 * 65536) + 7, 3 },
    };

    [Theory]
    [MemberData(nameof(ChunkingsOfOneRevision))]
    public async Task Any_chunking_of_an_upload_stores_exactly_its_bytes(int size, int chunk)
    {
        var content = RandomBytes(size);
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        using (var call = acme.Transfers.Upload())
        {
            await call.RequestStream.WriteAsync(new UploadRequest
            {
                Header = new UploadHeader { Dataset = dataset.Name, MediaType = "application/octet-stream", Sha256 = ByteString.CopyFrom(SHA256.HashData(content)) },
            });
            for (var at = 0; at < size; at += chunk)
            {
                await call.RequestStream.WriteAsync(new UploadRequest { Chunk = ByteString.CopyFrom(content, at, Math.Min(chunk, size - at)) });
            }

            await call.RequestStream.CompleteAsync();
            Assert.Equal(size, (await call).Revision.SizeBytes);
        }

        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research"));
        Assert.Equal(content, (await initech.DownloadAllAsync(grant.Name)).Bytes);
    }

    [Fact]
    public async Task The_bytes_at_rest_are_encrypted()
    {
        var content = "a very recognisable plaintext, repeated. "u8.ToArray().SelectMany(b => Enumerable.Repeat(b, 1)).ToArray();
        content = Enumerable.Repeat(content, 100).SelectMany(x => x).ToArray();
        await SharedAsync(content);

        var files = _factory.BlobFiles();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var stored = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain("recognisable", System.Text.Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, string> BadUploads => new()
    {
        { "chunk first", "header" },
        { "no media type", "media_type" },
        { "bad sha length", "sha256" },
        { "second header", "header" },
        { "too many bytes", "declared size_bytes" },
        { "too few bytes", "declared" },
        { "wrong sha", "sha256" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_bad_upload_is_refused_and_leaves_nothing_visible_or_behind(string what, string message)
    {
        using var acme = _factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var header = new UploadHeader { Dataset = dataset.Name, MediaType = "text/plain" };
        var chunks = new List<UploadRequest> { new() { Chunk = ByteString.CopyFromUtf8("hello") } };
        switch (what)
        {
            case "chunk first": header = null; break;
            case "no media type": header.MediaType = ""; break;
            case "bad sha length": header.Sha256 = ByteString.CopyFrom(new byte[5]); break;
            case "second header": chunks.Add(new UploadRequest { Header = header.Clone() }); break;
            case "too many bytes": header.SizeBytes = 3; break;
            case "too few bytes": header.SizeBytes = 10; break;
            case "wrong sha": header.Sha256 = ByteString.CopyFrom(SHA256.HashData("other"u8)); break;
        }

        using var call = acme.Transfers.Upload();
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, async () =>
        {
            try
            {
                if (header is not null)
                {
                    await call.RequestStream.WriteAsync(new UploadRequest { Header = header });
                }

                foreach (var chunk in chunks)
                {
                    await call.RequestStream.WriteAsync(chunk);
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // A write racing the refusal of the header can fail as CANCELLED; the response holds the call's status.
            }

            await call;
        });
        Assert.Contains(message, error.Status.Detail);
        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
        await AssertNoBlobsAsync(_factory);
    }

    [Fact]
    public async Task An_upload_larger_than_the_limit_is_resource_exhausted_and_an_idle_one_is_cut()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var limited = ExchangeFactory.With(("Exchange:Transfers:MaxRevisionBytes", "1000"), ("Exchange:Transfers:IdleTimeout", "00:00:00.500"));
        limited.Clock = clock;
        using var acme = limited.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);

        var error = await Rpc.FailsWith(StatusCode.ResourceExhausted,
            () => acme.UploadAsync(dataset.Name, new MemoryStream(new byte[1001])));
        Assert.Contains("1000", error.Status.Detail);

        using var call = acme.Transfers.Upload();
        await call.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset.Name, MediaType = "text/plain" } });
        // The client stays silent while the gateway's clock moves on (until the idle timer, armed once the header is in, runs out).
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!call.ResponseAsync.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the idle upload was not cut within 10 s");
            clock.Advance(TimeSpan.FromMilliseconds(600));
            await Task.Delay(20);
        }

        await Rpc.FailsWith(StatusCode.DeadlineExceeded, async () => await call);
        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
        await AssertNoBlobsAsync(limited);
    }

    /// <summary>
    /// The disk is full before the blob file is created, fills while chunks stream in, or fills
    /// only at the last segment, sealed as the upload ends. Sizes are in the default 256 KiB
    /// segments, each stored with its 16-byte tag after the 16-byte header.
    /// </summary>
    [Theory]
    [InlineData(1000, 0)]
    [InlineData(4 * 262144, 262144)]
    [InlineData((4 * 262144) + 1, 16 + (4 * (262144 + 16)))]
    public async Task An_upload_that_finds_the_storage_full_is_resource_exhausted_leaves_nothing_and_the_next_one_succeeds(int size, long freeBytes)
    {
        var logs = new CapturedLogs();
        using var factory = new ExchangeFactory { TestServices = FullBlobStore.Replace, Logs = logs };
        factory.ExpectErrors(e => e.Is("UnhandledExceptionInterceptor", 2)); // "Upload refused: the storage is full", asserted below
        using var acme = factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var storage = (FullBlobStore)factory.Services.GetRequiredService<Exchange.Server.Transfers.IBlobStore>();
        storage.FreeBytes = freeBytes;

        var error = await Rpc.FailsWith(StatusCode.ResourceExhausted,
            () => acme.UploadAsync(dataset.Name, new MemoryStream(RandomBytes(size))));
        Assert.Contains("storage is full", error.Status.Detail);
        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
        await AssertNoBlobsAsync(factory);
        Assert.Single(logs.Lines, line => line.StartsWith("Error ", StringComparison.Ordinal));
        Assert.Single(logs.Lines, line => line.Contains("Upload refused: the storage is full", StringComparison.Ordinal) && line.Contains("No space left on device", StringComparison.Ordinal));

        storage.FreeBytes = long.MaxValue;
        var content = RandomBytes(size);
        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        Assert.Equal(SHA256.HashData(content), revision.Sha256.ToByteArray());
    }

    [Fact]
    public async Task A_cancelled_upload_leaves_nothing_behind()
    {
        using var acme = _factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        using var cancel = new CancellationTokenSource();
        using var call = acme.Transfers.Upload(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset.Name, MediaType = "text/plain" } });
        await call.RequestStream.WriteAsync(new UploadRequest { Chunk = ByteString.CopyFrom(RandomBytes(200_000)) });
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(async () => await call);

        await AssertNoBlobsAsync(_factory);
        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
    }

    [Fact]
    public async Task Every_refused_download_is_denied_before_the_first_byte_and_recorded()
    {
        var (dataset, _, grant) = await SharedAsync(RandomBytes(1000), new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);
        using var acme = _factory.As(Participant.Acme);

        // Wrong purpose, missing revision, another dataset's revision.
        var wrong = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(grant.Name, purpose: "marketing"));
        Assert.Contains("does not allow the purpose", wrong.Status.Detail);
        await Rpc.FailsWith(StatusCode.NotFound, () => initech.DownloadAllAsync(grant.Name, revision: dataset.Name + "/revisions/9"));
        var other = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await Rpc.FailsWith(StatusCode.NotFound, () => initech.DownloadAllAsync(grant.Name, revision: other.Name + "/revisions/1"));
        // Another consumer does not know the grant exists.
        using var umbrella = _factory.As(Participant.Umbrella);
        await Rpc.FailsWith(StatusCode.NotFound, () => umbrella.DownloadAllAsync(grant.Name));

        // One transfer allowed: the second is exhausted.
        await initech.DownloadAllAsync(grant.Name);
        var exhausted = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(grant.Name));
        Assert.Contains("used all", exhausted.Status.Detail);

        var transfers = (await initech.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers;
        Assert.Equal([TransferState.Denied, TransferState.Completed, TransferState.Denied], transfers.Select(t => t.State));
        using var auditor = _factory.As(Participant.Auditor);
        var starts = await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "transfer.start" });
        Assert.Equal([AuditOutcome.Denied, AuditOutcome.Success, AuditOutcome.Denied], starts.Select(e => e.Outcome));
    }

    [Fact]
    public async Task A_denied_transfer_never_resumes()
    {
        var (_, _, grant) = await SharedAsync(RandomBytes(1000), new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);
        await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(grant.Name, purpose: "marketing"));
        var denied = (await initech.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers.Single();

        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, transfer: denied.Name));
        Assert.Equal($"'{denied.Name}' is denied; only an interrupted transfer resumes.", refused.Status.Detail);
        var transfers = (await initech.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers;
        Assert.Equal([TransferState.Denied], transfers.Select(t => t.State));
    }

    [Fact]
    public async Task Revoked_and_expired_grants_refuse_downloads()
    {
        // The gateway's clock, which the test moves past the expiry instead of waiting for it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ExchangeFactory { Clock = clock };
        var (_, _, revoked) = await SharedAsync(factory, RandomBytes(100));
        using var acme = factory.As(Participant.Acme);
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = revoked.Name, Reason = "breach" });
        using var initech = factory.As(Participant.Initech);
        var error = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(revoked.Name));
        Assert.Contains("revoked", error.Status.Detail);

        var (_, _, expiring) = await SharedAsync(factory, RandomBytes(100),
            new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(clock.GetUtcNow().AddSeconds(3)) });
        clock.Advance(TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(100));
        error = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(expiring.Name));
        Assert.Contains("expired", error.Status.Detail);
    }

    [Fact]
    public async Task An_interrupted_download_resumes_from_an_offset_as_the_same_transfer_without_using_another_transfer()
    {
        var content = RandomBytes(6 * 65536);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);

        var (transfer, received) = await initech.InterruptAsync(grant.Name, 2 * 65536);
        var interrupted = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("cancelled by the consumer", interrupted.FailureReason);

        // A client resumes from what it holds, but not past what the gateway counts as sent (writes that completed).
        var from = (int)Math.Min(received.Length, interrupted.BytesSent);
        var (header, rest, trailer) = await initech.DownloadAllAsync(grant.Name, offset: from, transfer: transfer);
        Assert.Equal(transfer, header.Transfer);
        Assert.Equal(content, received[..from].Concat(rest).ToArray());
        Assert.Equal(SHA256.HashData(rest), trailer.Sha256.ToByteArray());
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
        Assert.Equal(TransferState.Completed, (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer.State);

        await Rpc.FailsWith(StatusCode.InvalidArgument, () => initech.DownloadAllAsync(grant.Name, offset: 10));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, offset: 10, transfer: transfer));
    }

    [Fact]
    public async Task A_resume_cannot_fetch_the_revision_again_or_change_its_purpose()
    {
        var content = RandomBytes(40 * 1024 * 1024);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research", "teaching" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);

        var (transfer, bytes) = await initech.InterruptAsync(grant.Name, 38 * 1024 * 1024);
        long received = bytes.Length;

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.InRange(failed.BytesSent, received - (4 * 65536), content.Length);

        // From the start again: refused, the bytes were already delivered under this transfer.
        var again = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, offset: 0, transfer: transfer));
        Assert.Contains("resume from offset", again.Status.Detail);
        var from = Math.Min(received, failed.BytesSent);
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => initech.DownloadAllAsync(grant.Name, purpose: "teaching", offset: from, transfer: transfer));

        var (_, rest, _) = await initech.DownloadAllAsync(grant.Name, offset: from, transfer: transfer);
        Assert.Equal(content.AsSpan((int)from).ToArray(), rest);
    }

    [Fact]
    public async Task Resumes_cannot_fetch_a_small_revision_again_and_again_under_one_transfer()
    {
        // Smaller than what one resume may go back over: the attack is to cancel near the end and resume from zero, over and over.
        const int Chunk = 256 * 1024;
        var content = RandomBytes(4 * Chunk);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);

        var (transfer, _) = await initech.InterruptAsync(grant.Name, 3 * Chunk);
        var first = (await initech.WaitForTransferAsync(transfer, TransferState.Failed)).BytesSent;

        // Going back over it once, whole, is what a stream lost in flight may need.
        var (_, again) = await initech.InterruptAsync(grant.Name, 3 * Chunk, offset: 0, transfer: transfer);
        Assert.Equal(content.AsSpan(0, again.Length).ToArray(), again);
        var second = (await initech.WaitForTransferAsync(transfer, TransferState.Failed)).BytesSent;
        Assert.True(first + second > content.Length, $"{first} and {second} bytes sent: the test needs more than the revision's size in all");

        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, offset: 0, transfer: transfer));
        var earliest = second - Math.Max(content.Length - first, 0);
        Assert.Contains($"earlier resumes went back over {first} of them", refused.Status.Detail);
        Assert.Contains($"resume from offset {earliest} or later", refused.Status.Detail);

        var (_, rest, _) = await initech.DownloadAllAsync(grant.Name, offset: earliest, transfer: transfer);
        Assert.Equal(content.AsSpan((int)earliest).ToArray(), rest);
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
    }

    [Fact]
    public async Task A_resume_past_the_bytes_sent_earns_no_receipt_and_a_new_transfer_starts_at_zero()
    {
        var content = RandomBytes(4 * 1024 * 1024);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research" }, MaxTransfers = 2 });
        using var initech = _factory.As(Participant.Initech);

        // A new transfer cannot claim to start in the middle, request id or not.
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => initech.DownloadAllAsync(grant.Name, offset: content.Length));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, async () =>
        {
            using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research", Offset = 65536, RequestId = "fresh" });
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });

        var (transfer, _) = await initech.InterruptAsync(grant.Name, 1);

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.True(failed.BytesSent < content.Length, $"{failed.BytesSent} of {content.Length} bytes counted as sent");

        // Claiming to hold every byte already would end the transfer COMPLETED with a receipt for bytes never sent.
        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, offset: content.Length, transfer: transfer));
        Assert.Contains($"resume from offset {failed.BytesSent} or earlier", refused.Status.Detail);
        var after = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
        Assert.Equal((TransferState.Failed, failed.BytesSent), (after.State, after.BytesSent));
        Assert.Null(after.Receipt);

        var (_, rest, _) = await initech.DownloadAllAsync(grant.Name, offset: failed.BytesSent, transfer: transfer);
        Assert.Equal(content.AsSpan((int)failed.BytesSent).ToArray(), rest);
    }

    [Fact]
    public async Task The_sdk_resumes_from_what_the_gateway_recorded_as_sent_when_the_file_holds_more()
    {
        var content = RandomBytes(4 * 1024 * 1024);
        var (_, _, grant) = await SharedAsync(content);
        using var initech = _factory.As(Participant.Initech);
        var path = Path.Combine(_factory.DataDirectory, "resumed.bin");
        using (var cancel = new CancellationTokenSource())
        {
            var progress = new CancelWhen(p => p.Bytes >= 1024 * 1024, cancel);
            await Assert.ThrowsAnyAsync<Exception>(() => initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research", Progress = progress }, cancel.Token));
        }

        // As after a crash of the gateway: it recorded less than reached the consumer's disk.
        var transfer = (await initech.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers.Single();
        await initech.WaitForTransferAsync(transfer.Name, TransferState.Failed);
        Assert.True(new FileInfo(path + ".partial").Length > 65536);
        var database = _factory.Services.GetRequiredService<Database>();
        await database.WriteAsync(unit => unit.Command("UPDATE transfers SET bytes_sent = 65536 WHERE id = @id")
            .With("@id", transfer.Name["transfers/".Length..]).ExecuteNonQuery(), CancellationToken.None);

        var result = await initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research" });
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.True(result.Resumed);
    }

    [Fact]
    public async Task Downloading_needs_the_consumer_role_at_the_time_of_the_call_not_only_the_grant()
    {
        var (_, _, grant) = await SharedAsync(RandomBytes(65536));
        using var initechAsProvider = _factory.ClientFor(Participant.Initech.Id, "provider");

        var denied = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initechAsProvider.DownloadAllAsync(grant.Name));
        Assert.Contains("'consumer' role", denied.Status.Detail);
        using var auditor = _factory.As(Participant.Auditor);
        var record = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "transfer.start" })).Last();
        Assert.Equal((AuditOutcome.Denied, "initech"), (record.Outcome, record.Actor));
    }

    [Fact]
    public async Task A_transfer_left_streaming_by_a_gateway_that_stopped_is_failed_recorded_and_resumes()
    {
        var content = RandomBytes(4 * 1024 * 1024);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);
        using var cancel = new CancellationTokenSource();
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" }, cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;

        // This gateway's heartbeat records how far the live stream has got.
        var store = _factory.Services.GetRequiredService<Exchange.Server.Transfers.TransferStore>();
        var live = _factory.Services.GetRequiredService<Exchange.Server.Transfers.LiveTransfers>();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var streaming = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
        for (var tries = 0; streaming.BytesSent == 0 && tries < 100; tries++)
        {
            // The write of a chunk the client holds counts once the gateway has seen it complete, a moment later.
            Assert.Empty(await store.HeartbeatAsync(live.Snapshot(), CancellationToken.None));
            streaming = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
            await Task.Delay(20);
        }

        Assert.Equal(TransferState.Started, streaming.State);
        Assert.True(streaming.BytesSent > 0, "the heartbeat records progress");

        // Another replica that is alive keeps its transfers.
        var database = _factory.Services.GetRequiredService<Exchange.Server.Storage.Database>();
        async Task ServedBy(string gateway) => await database.WriteAsync(unit => unit.Command("UPDATE transfers SET gateway = @g WHERE id = @id")
            .With("@g", gateway).With("@id", transfer["transfers/".Length..]).ExecuteNonQuery(), CancellationToken.None);
        await database.WriteAsync(unit => unit.Command("INSERT INTO gateways (id, seen_time) VALUES ('live-replica', @now)")
            .With("@now", Timestamps.ToMicros(unit.Now)).ExecuteNonQuery(), CancellationToken.None);
        await ServedBy("live-replica");
        Assert.Equal(0, await store.FailOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(-1), onlyThisGateway: false, CancellationToken.None));

        // As if the replica streaming it had vanished: its gateway never says it is alive again.
        await ServedBy("lost-replica");
        Assert.Equal(1, await store.FailOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(-1), onlyThisGateway: false, CancellationToken.None));

        var failed = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
        Assert.Equal((TransferState.Failed, "the gateway serving it stopped"), (failed.State, failed.FailureReason));
        using var auditor = _factory.As(Participant.Auditor);
        var record = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "transfer.fail" })).Single(e => e.Resource == transfer);
        Assert.Equal(("exchange:gateway", "initech"), (record.Actor, record.Subject));

        // The stream still running here learns at its gateway's next heartbeat that the transfer is no longer its own, and stops;
        // the transfer resumes under the usual checks, from what was recorded.
        Assert.Single(await store.HeartbeatAsync(live.Snapshot(), CancellationToken.None)).Supersede();
        var stopped = await call.EndsWithoutTrailerAsync();
        Assert.Equal(StatusCode.Aborted, stopped.StatusCode);
        var (_, bytes, trailer) = await initech.DownloadAllAsync(grant.Name, offset: 0, transfer: transfer);
        Assert.Equal(content, bytes);
        Assert.Equal("transfer.complete", trailer.Receipt.Event.Action);
    }

    [Fact]
    public async Task A_retry_with_the_same_request_id_continues_the_transfer_the_first_call_started()
    {
        var content = RandomBytes(4 * 65536);
        var (_, _, grant) = await SharedAsync(content, new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        using var initech = _factory.As(Participant.Initech);

        string first;
        using (var cancel = new CancellationTokenSource())
        {
            using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research", RequestId = "dl-1" },
                cancellationToken: cancel.Token);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            first = call.ResponseStream.Current.Header.Transfer;
            cancel.Cancel();
        }

        await initech.WaitForTransferAsync(first, TransferState.Failed);
        using var retry = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research", RequestId = "dl-1" });
        var received = new MemoryStream();
        await foreach (var message in retry.ResponseStream.ReadAllAsync())
        {
            if (message.PayloadCase == DownloadResponse.PayloadOneofCase.Header)
            {
                Assert.Equal(first, message.Header.Transfer);
            }

            if (message.PayloadCase == DownloadResponse.PayloadOneofCase.Chunk)
            {
                received.Write(message.Chunk.Data.Span);
            }
        }

        Assert.Equal(content, received.ToArray());
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
    }

    [Fact]
    public async Task Fifty_concurrent_downloads_of_one_revision_all_verify()
    {
        var content = RandomBytes(3 * 65536);
        var (_, _, grant) = await SharedAsync(content);
        using var initech = _factory.As(Participant.Initech);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => initech.DownloadAllAsync(grant.Name)));

        Assert.All(results, r =>
        {
            Assert.Equal(content, r.Bytes);
            var verified = ReceiptVerifier.Verify(r.Trailer.Receipt, AccessFixture.Expected(grant.Name, r.Header, r.Bytes), _factory.LogKey());
            Assert.True(verified.Succeeded, verified.Message);
        });
        Assert.Equal(50, results.Select(r => r.Header.Transfer).Distinct().Count());
    }

    [Fact]
    public async Task A_flipped_byte_on_disk_is_data_loss_never_wrong_bytes()
    {
        var (_, revision, grant) = await SharedAsync(RandomBytes(3 * 65536));
        var blob = _factory.BlobFiles().OrderByDescending(File.GetLastWriteTimeUtc).First();
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 16 + 65536 + 16 + 100; // inside the second segment
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x01));
        }

        using var initech = _factory.As(Participant.Initech);
        var received = 0L;
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        var error = await Rpc.FailsWith(StatusCode.DataLoss, async () =>
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                received += message.Chunk?.Data.Length ?? 0;
            }
        });
        Assert.Contains(revision.Name, error.Status.Detail);
        Assert.Equal(65536, received);
    }

    [Theory]
    [InlineData(16 + (2 * (65536 + 16)) + 100, 2 * 65536)] // cut inside the last segment: the first two are sent
    [InlineData(8, 0)] // cut inside the header: nothing is sent
    public async Task A_blob_file_cut_short_is_data_loss_after_the_whole_segments_before_the_cut(long keptBytes, long expected)
    {
        var (_, revision, grant) = await SharedAsync(RandomBytes(3 * 65536));
        var blob = _factory.BlobFiles().OrderByDescending(File.GetLastWriteTimeUtc).First();
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            file.SetLength(keptBytes);
        }

        using var initech = _factory.As(Participant.Initech);
        var received = 0L;
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        // A blob that ends early is damaged storage, on S3 too: the gateway reads a byte range, which s3rver
        // answers from the bytes the object file still has, so the stream ends where the file does.
        var error = await Rpc.FailsWith(StatusCode.DataLoss, async () =>
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                received += message.Chunk?.Data.Length ?? 0;
            }
        });
        Assert.Contains($"{revision.Name} are damaged (its file is shorter than it should be)", error.Status.Detail);
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task Revoking_a_grant_stops_its_running_download_within_a_second()
    {
        var (_, _, grant) = await SharedAsync(RandomBytes(64 * 65536));
        using var initech = _factory.As(Participant.Initech);
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        using var acme = _factory.As(Participant.Acme);
        var revoked = (await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "stop now" })).Grant;

        // The server stops the stream itself, however slowly the consumer reads what is already in flight.
        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("grant revoked", failed.FailureReason);
        var stoppedAfter = failed.EndTime.ToDateTimeOffset() - revoked.RevokeTime.ToDateTimeOffset();
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(1), $"stopped {stoppedAfter} after the revocation");
        await call.EndsWithoutTrailerAsync();
    }

    [Fact]
    public async Task A_grant_that_expires_mid_stream_stops_its_download_at_once_on_the_gateways_clock()
    {
        // The gateway's clock, not the wall's: the grant expires when the test moves it, without waiting.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ExchangeFactory { Clock = clock };
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomBytes(256 * 65536)));
        var expiry = clock.GetUtcNow().AddHours(1);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research",
            new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(expiry) }));
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        // A slow reader still in the middle of the revision when the grant runs out.
        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var error = await Rpc.FailsWith(StatusCode.PermissionDenied, async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Contains("expired", error.Status.Detail);
        // Tokens too are judged on the gateway's clock: the consumer goes on with one issued an hour later.
        using var later = factory.OnClock(Participant.Initech);
        var failed = await later.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("grant expired", failed.FailureReason);
        Assert.Equal(GrantState.Expired, (await later.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.State);

        // And a new download under it is refused as expired, without a second of waiting.
        var refused = await Rpc.FailsWith(StatusCode.PermissionDenied, () => later.DownloadAllAsync(grant.Name));
        Assert.Contains("expired", refused.Status.Detail);
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_is_cut_after_the_stall_timeout_and_resumes_where_it_was()
    {
        // The gateway's clock: the stall timer runs out when the test moves it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", "65536"), ("Exchange:Transfers:StallTimeout", "00:00:30"));
        factory.Clock = clock;
        var content = RandomBytes(64 * 65536);
        var (_, _, grant) = await SharedAsync(factory, content);
        using var initech = factory.OnClock(Participant.Initech);
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        // The consumer reads nothing more. Short of the timeout the stream is held; past it, it is stopped and recorded.
        var held = TimeSpan.Zero;
        Transfer failed;
        while ((failed = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer).State == TransferState.Started)
        {
            Assert.True(held < TimeSpan.FromMinutes(5), "the stalled download was not stopped");
            clock.Advance(TimeSpan.FromSeconds(1));
            held += TimeSpan.FromSeconds(1);
        }

        Assert.Equal(TransferState.Failed, failed.State);
        Assert.True(held >= TimeSpan.FromSeconds(30), $"stopped after {held} on the gateway's clock, before the 30 s stall timeout");
        Assert.Equal("the consumer stopped reading", failed.FailureReason);
        Assert.InRange(failed.BytesSent, 65536, content.Length - 65536);
        var stopped = await Rpc.FailsWith(StatusCode.DeadlineExceeded, async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Contains("read for 30 s", stopped.Status.Detail);

        var (_, rest, _) = await initech.DownloadAllAsync(grant.Name, offset: failed.BytesSent, transfer: transfer);
        Assert.Equal(content.AsSpan((int)failed.BytesSent).ToArray(), rest);
    }

    [Fact]
    public async Task The_sdk_downloads_to_a_file_resumes_after_an_interruption_and_verifies_everything()
    {
        var content = RandomBytes(10 * 65536);
        var (_, revision, grant) = await SharedAsync(content);
        using var initech = _factory.As(Participant.Initech);
        var path = Path.Combine(_factory.DataDirectory, "download.bin");

        using (var cancel = new CancellationTokenSource())
        {
            var progress = new CancelWhen(p => p.Bytes >= 3 * 65536, cancel);
            await Assert.ThrowsAnyAsync<Exception>(() => initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research", Progress = progress }, cancel.Token));
        }

        Assert.False(File.Exists(path));
        Assert.True(File.Exists(path + ".partial"));

        var result = await initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research" });
        Assert.True(result.Resumed);
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal(revision.Sha256.ToByteArray(), result.Sha256);
        Assert.False(File.Exists(path + ".partial"));
        Assert.False(File.Exists(path + ".partial.json"));
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
    }

    [Fact]
    public async Task A_completed_transfer_whose_file_was_never_renamed_is_finished_from_its_receipt()
    {
        var content = RandomBytes(3 * 65536);
        var (_, revision, grant) = await SharedAsync(content);
        using var initech = _factory.As(Participant.Initech);
        var path = Path.Combine(_factory.DataDirectory, "finished.bin");

        // As if the process died between receiving the trailer and renaming the file.
        var (header, bytes, _) = await initech.DownloadAllAsync(grant.Name);
        await File.WriteAllBytesAsync(path + ".partial", bytes);
        await File.WriteAllTextAsync(path + ".partial.json", System.Text.Json.JsonSerializer.Serialize(new
        {
            Grant = grant.Name,
            header.Transfer,
            header.Revision,
            header.SizeBytes,
            Sha256 = Convert.ToHexStringLower(header.Sha256.Span),
        }));

        var transfer = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = header.Transfer })).Transfer;
        var verified = ReceiptVerifier.Verify(transfer.Receipt, AccessFixture.Expected(grant.Name, header, bytes), _factory.LogKey());
        Assert.True(verified.Succeeded, verified.Message);

        var result = await initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research" });
        Assert.Equal(header.Transfer, result.Transfer);
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
    }

    [Fact]
    public async Task A_download_whose_bytes_do_not_match_never_leaves_a_file_that_looks_complete()
    {
        var content = RandomBytes(8 * 65536);
        var (_, _, grant) = await SharedAsync(content);
        using var initech = _factory.As(Participant.Initech);
        var path = Path.Combine(_factory.DataDirectory, "bad.bin");

        using (var cancel = new CancellationTokenSource())
        {
            var progress = new CancelWhen(p => p.Bytes >= 2 * 65536, cancel);
            await Assert.ThrowsAnyAsync<Exception>(() => initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research", Progress = progress }, cancel.Token));
        }

        // Something scribbles over the partial file between runs.
        await using (var partial = new FileStream(path + ".partial", FileMode.Open, FileAccess.Write))
        {
            partial.Position = 10;
            partial.WriteByte(0xFF);
            partial.WriteByte(0x00);
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => initech.DownloadToFileAsync(grant.Name, path, new() { Purpose = "research" }));
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    /// <summary>The gateway stored no revision, so no blob file may be left, not even a temporary one.</summary>
    private static async Task AssertNoBlobsAsync(ExchangeFactory factory)
    {
        // A failed upload's file is deleted as the call ends; give the server a moment to finish.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (factory.BlobFiles().Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Empty(factory.BlobFiles());
    }
}
