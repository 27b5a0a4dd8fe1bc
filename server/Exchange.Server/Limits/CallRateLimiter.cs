using System.Globalization;
using System.Threading.RateLimiting;
using Exchange.Server.Security;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Limits;

/// <summary>
/// A token bucket per participant (Exchange:Limits:CallsPerSecond, CallBurst). A call over the
/// limit is RESOURCE_EXHAUSTED before it does any work, with the wait in its message and in the
/// <c>retry-after-ms</c> and gRPC's own <c>grpc-retry-pushback-ms</c> trailers. Anonymous calls
/// (health, reflection) are not counted.
/// </summary>
internal sealed class CallRateLimiter : Interceptor, IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly int _perSecond;

    private readonly Observability.ExchangeTelemetry _telemetry;

    public CallRateLimiter(IOptions<Hosting.ExchangeOptions> options, Observability.ExchangeTelemetry telemetry)
    {
        _telemetry = telemetry;
        var limits = options.Value.Limits;
        _perSecond = limits.CallsPerSecond;
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
        Admit(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    public void Dispose() => _limiter?.Dispose();

    private void Admit(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        if (_limiter is null || user.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var participant = Caller.From(user).Participant;
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
