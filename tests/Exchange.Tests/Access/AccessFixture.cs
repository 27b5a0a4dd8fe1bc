using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Access;

internal static class AccessFixture
{
    public static async Task<AccessRequest> RequestAsync(this ExchangeClient consumer, Dataset dataset, string purpose = "research",
        Terms? terms = null, string offer = "") =>
        (await consumer.Access.RequestAccessAsync(new RequestAccessRequest
        {
            Dataset = dataset.Name,
            Purpose = purpose,
            RequestedTerms = terms,
            Offer = offer,
        })).AccessRequest;

    /// <summary>Reads a whole download: its header, the bytes in order, and its trailer.</summary>
    public static async Task<(DownloadHeader Header, byte[] Bytes, DownloadTrailer Trailer)> DownloadAllAsync(this ExchangeClient consumer,
        string grant, string purpose = "research", string revision = "", long offset = 0, string transfer = "", CancellationToken cancellationToken = default,
        TableFormat format = TableFormat.Unspecified)
    {
        using var call = consumer.Transfers.Download(new DownloadRequest
        {
            Grant = grant,
            Purpose = purpose,
            Revision = revision,
            Offset = offset,
            Transfer = transfer,
            Format = format,
        }, cancellationToken: cancellationToken);
        DownloadHeader? header = null;
        DownloadTrailer? trailer = null;
        var bytes = new MemoryStream();
        await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            switch (message.PayloadCase)
            {
                case DownloadResponse.PayloadOneofCase.Header:
                    header = message.Header;
                    break;
                case DownloadResponse.PayloadOneofCase.Chunk:
                    Assert.Equal(offset + bytes.Length, message.Chunk.Offset);
                    bytes.Write(message.Chunk.Data.Span);
                    break;
                case DownloadResponse.PayloadOneofCase.Trailer:
                    trailer = message.Trailer;
                    break;
            }
        }

        return (header ?? throw new InvalidOperationException("no header"), bytes.ToArray(), trailer ?? throw new InvalidOperationException("no trailer"));
    }

    /// <summary>
    /// Starts a download (or resumes <paramref name="transfer"/> from <paramref name="offset"/>), reads until at least
    /// <paramref name="bytes"/> have arrived, then cancels it: an interrupted transfer (FAILED once the gateway has
    /// noticed), and what reached the consumer.
    /// </summary>
    public static async Task<(string Transfer, byte[] Received)> InterruptAsync(this ExchangeClient consumer, string grant, long bytes,
        long offset = 0, string transfer = "")
    {
        using var cancel = new CancellationTokenSource();
        using var call = consumer.Transfers.Download(new DownloadRequest { Grant = grant, Purpose = "research", Offset = offset, Transfer = transfer },
            cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var started = call.ResponseStream.Current.Header.Transfer;
        var received = new MemoryStream();
        while (received.Length < bytes && await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            received.Write(call.ResponseStream.Current.Chunk.Data.Span);
        }

        Assert.True(received.Length >= bytes, $"the download ended after {received.Length} bytes, before {bytes}");
        cancel.Cancel();
        return (started, received.ToArray());
    }

    /// <summary>What a client saw of a whole download under <paramref name="grant"/>, which its receipt must repeat.</summary>
    public static ExpectedTransfer Expected(string grant, DownloadHeader header, byte[] bytes) =>
        new(header.Transfer, grant, header.Revision, header.SizeBytes, SHA256.HashData(bytes));

    public static async Task<Grant> ApproveAsync(this ExchangeClient provider, AccessRequest request, Terms? terms = null) =>
        (await provider.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name, Terms = terms })).Grant;

    /// <summary>Polls a transfer until it is in <paramref name="state"/>, failing after 10 s with the state it is stuck in.</summary>
    public static async Task<Transfer> WaitForTransferAsync(this ExchangeClient client, string transfer, TransferState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var current = (await client.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
            if (current.State == state || DateTime.UtcNow > deadline)
            {
                Assert.Equal(state, current.State);
                return current;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A stopped download: what was already in flight may still arrive, then the stream ends in an error, never in a trailer.</summary>
    public static Task<RpcException> EndsWithoutTrailerAsync(this AsyncServerStreamingCall<DownloadResponse> call) =>
        Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                Assert.NotEqual(DownloadResponse.PayloadOneofCase.Trailer, call.ResponseStream.Current.PayloadCase);
            }
        });
}
