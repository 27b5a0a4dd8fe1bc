using System.Globalization;
using System.Threading.RateLimiting;
using Exchange.Server.Security;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Limits;

/// <summary>
/// Per participant: a token bucket of calls (Exchange:Limits:CallsPerSecond, CallBurst), and a
/// cap on streams open at once (StreamsPerParticipant), so nobody can hold endless downloads,
/// uploads or watches. A call over either is RESOURCE_EXHAUSTED before it does any work, with
/// the wait (for the rate) in its message and in the <c>retry-after-ms</c> and gRPC's own
/// <c>grpc-retry-pushback-ms</c> trailers. Anonymous calls (health, reflection) are not counted.
/// </summary>
internal sealed class CallLimiter : Interceptor, IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly PartitionedRateLimiter<string>? _streams;
    private readonly int _perSecond;
    private readonly int _streamsPerParticipant;
    private readonly Observability.ExchangeTelemetry _telemetry;

    public CallLimiter(IOptions<Hosting.ExchangeOptions> options, Observability.ExchangeTelemetry telemetry)
    {
        _telemetry = telemetry;
        var limits = options.Value.Limits;
        _perSecond = limits.CallsPerSecond;
        _streamsPerParticipant = limits.StreamsPerParticipant;
        if (_streamsPerParticipant > 0)
        {
            _streams = PartitionedRateLimiter.Create<string, string>(participant => RateLimitPartition.GetConcurrencyLimiter(participant,
                _ => new ConcurrencyLimiterOptions { PermitLimit = _streamsPerParticipant, QueueLimit = 0 }));
        }

        if (_perSecond <= 0)
        {
            return;
        }

        _limiter = PartitionedRateLimiter.Create<string, string>(participant => RateLimitPartition.GetTokenBucketLimiter(participant,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(limits.CallBurst, 1),
                TokensPerPeriod = _perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(Participant(context));
        return continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var stream = AdmitStream(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var stream = AdmitStream(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var stream = AdmitStream(context);
        await continuation(requestStream, responseStream, context);
    }

    public void Dispose()
    {
        _limiter?.Dispose();
        _streams?.Dispose();
    }

    /// <summary>The authenticated participant behind a call; null for anonymous calls, which are not counted.</summary>
    private static string? Participant(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        return user.Identity?.IsAuthenticated == true ? Caller.From(user).Participant : null;
    }

    /// <summary>Admits a stream call like any other, then holds one of the participant's stream permits until the returned lease is disposed.</summary>
    private RateLimitLease? AdmitStream(ServerCallContext context)
    {
        var participant = Participant(context);
        Admit(participant);
        if (_streams is null || participant is null)
        {
            return null;
        }

        var lease = _streams.AttemptAcquire(participant);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        _telemetry.Denied("too_many_streams");
        throw new RpcException(new Status(StatusCode.ResourceExhausted,
            $"'{participant}' already has {_streamsPerParticipant} streams open (uploads, downloads, watches); end one before opening another."));
    }

    private void Admit(string? participant)
    {
        if (_limiter is null || participant is null)
        {
            return;
        }

        using var lease = _limiter.AttemptAcquire(participant);
        if (lease.IsAcquired)
        {
            return;
        }

        _telemetry.Denied("rate_limited");
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(wait.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        throw new RpcException(
            new Status(StatusCode.ResourceExhausted,
                $"Too many calls from '{participant}': at most {_perSecond} per second are accepted. Retry after {milliseconds} ms."),
            new Metadata { { "retry-after-ms", milliseconds }, { "grpc-retry-pushback-ms", milliseconds } });
    }
}
