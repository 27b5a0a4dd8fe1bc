using System.Security.Cryptography;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Smoke;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Exchange.Tests.Limits;

/// <summary>What one participant, one message and one connection may take.</summary>
public sealed class LimitTests
{
    [Fact]
    public async Task A_participant_over_its_call_rate_is_resource_exhausted_with_a_retry_hint_and_others_are_not_affected()
    {
        // A burst of five, then one call back each second, on the limiter's own timer: a tick can fall
        // inside the burst (a slow start under CI load), so the calls it earned are allowed for.
        using var factory = ExchangeFactory.With(("Exchange:Limits:CallsPerSecond", "1"), ("Exchange:Limits:CallBurst", "5"));
        using var acme = factory.As(Participant.Acme);
        using var globex = factory.As(Participant.Globex);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var allowed = 0;
        RpcException? refused = null;
        while (refused is null && allowed < 20)
        {
            try
            {
                await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
                allowed++;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.InRange(allowed, 5, 5 + (int)Math.Ceiling(watch.Elapsed.TotalSeconds));
        Assert.Contains("Too many calls from 'acme'", refused.Status.Detail);
        var retryAfter = int.Parse(Assert.Single(refused.Trailers, t => t.Key == "retry-after-ms").Value);
        Assert.InRange(retryAfter, 1, 1000);
        Assert.Contains(refused.Trailers, t => t.Key == "grpc-retry-pushback-ms");

        await globex.Catalog.ListDatasetsAsync(new ListDatasetsRequest());

        // Acme is let in again once the limiter refills: polled, not slept, within the hinted wait and a second
        // more (the limiter's own timer may tick late under load).
        var deadline = DateTime.UtcNow.AddMilliseconds(retryAfter + 2000);
        while (true)
        {
            try
            {
                await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task A_participant_cannot_hold_more_streams_open_than_its_limit_and_others_are_not_affected()
    {
        using var factory = ExchangeFactory.With(("Exchange:Limits:StreamsPerParticipant", "2"));
        using var acme = factory.As(Participant.Acme);
        await CatalogFixture.CreateAsync(acme);
        using var auditor = factory.As(Participant.Auditor);
        using var operatorClient = factory.As(Participant.Operator);

        // Watches never end by themselves: the kind of stream a participant could pile up.
        async Task<AsyncServerStreamingCall<WatchAuditEventsResponse>> WatchAsync(Exchange.Client.ExchangeClient client, CancellationToken cancellationToken = default)
        {
            var call = client.Audit.WatchAuditEvents(new WatchAuditEventsRequest(), cancellationToken: cancellationToken);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            return call;
        }

        using var first = new CancellationTokenSource();
        using var one = await WatchAsync(auditor, first.Token);
        using var two = await WatchAsync(auditor);
        var refused = await Rpc.FailsWith(StatusCode.ResourceExhausted, async () => (await WatchAsync(auditor)).Dispose());
        Assert.Contains("already has 2 streams open", refused.Status.Detail);
        using var others = await WatchAsync(operatorClient);

        // Ending one frees its place.
        await first.CancelAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            try
            {
                using var three = await WatchAsync(auditor);
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task A_message_over_the_receive_limit_is_resource_exhausted_and_stores_nothing()
    {
        using var factory = ExchangeFactory.With(("Exchange:Limits:MaxReceiveMessageBytes", "65536"), ("Exchange:Transfers:ChunkSize", "32768"));
        using var acme = factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        using var call = acme.Transfers.Upload();
        try
        {
            await call.RequestStream.WriteAsync(new UploadRequest { Header = new UploadHeader { Dataset = dataset.Name, MediaType = "application/octet-stream" } });
            await call.RequestStream.WriteAsync(new UploadRequest { Chunk = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(100_000)) });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may end the call while the client is still writing; its answer is in the response.
        }

        var failed = await Rpc.FailsWith(StatusCode.ResourceExhausted, () => call.ResponseAsync);

        Assert.Contains("maximum", failed.Status.Detail);
        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
    }

    [Fact]
    public async Task A_chunk_size_that_cannot_fit_the_send_limit_stops_the_start()
    {
        var (exit, error) = await Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-limits", Guid.NewGuid().ToString("N"))}",
            "--Exchange:Limits:MaxSendMessageBytes=65536", "--Exchange:Transfers:ChunkSize=65536");
        Assert.Equal(1, exit);
        Assert.Contains("must leave room in Exchange:Limits:MaxSendMessageBytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Connections_carry_a_bounded_number_of_streams_and_ping_quiet_peers()
    {
        using var factory = new ExchangeFactory();
        _ = factory.Server;
        var http2 = factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;
        Assert.Equal((100, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(20)),
            (http2.MaxStreamsPerConnection, http2.KeepAlivePingDelay, http2.KeepAlivePingTimeout));
    }
}
