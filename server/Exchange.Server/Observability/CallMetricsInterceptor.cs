using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Exchange.Server.Observability;

/// <summary>
/// Counts every call by method and final status, and times it (streams until their last message);
/// and counts NOT_FOUND answers by the kind of object and whether it was missing or hidden.
/// </summary>
internal sealed class CallMetricsInterceptor(ExchangeTelemetry telemetry, TimeProvider time) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation) =>
        MeasureAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        MeasureAsync(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        MeasureAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        MeasureAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    private async Task<T> MeasureAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = time.GetTimestamp();
        var status = StatusCode.Internal;
        try
        {
            var result = await call();
            status = StatusCode.OK;
            return result;
        }
        catch (RpcException ex)
        {
            status = ex.StatusCode;
            if (ex is ObjectNotFound probe)
            {
                telemetry.Probed(probe.Kind, probe.Reason);
            }

            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            status = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            telemetry.Call(context.Method, status, time.GetElapsedTime(started));
        }
    }
}
