using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Exchange.Server.Hosting;

/// <summary>
/// Turns any exception that is not an <see cref="RpcException"/> into INTERNAL with a
/// reference id, logging the detail server-side: callers never see stack traces or SQL. A full
/// disk is the exception: RESOURCE_EXHAUSTED, which the caller can act on.
/// </summary>
internal sealed partial class UnhandledExceptionInterceptor(ILogger<UnhandledExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex, context);
        }
    }

    private RpcException Translate(Exception ex, ServerCallContext context)
    {
        // A call that is over (its caller gone or its deadline passed) fails its next write with whatever the
        // transport throws then ("the request is complete", "the request was aborted"): nobody hears the answer and
        // nothing went wrong inside the gateway, so it is not logged as an internal error.
        // At a deadline grpc-dotnet sets the call's status and completes the response before it cancels the call's token,
        // so a write in between fails while the token is not yet cancelled: the status says the call is over then. The
        // deadline itself is grpc-dotnet's, set and enforced on the system clock, so it is compared with that clock.
        var over = context.CancellationToken.IsCancellationRequested
            || context.Status.StatusCode == StatusCode.DeadlineExceeded
            || context.Deadline <= DateTime.UtcNow;
        if ((ex is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
            || (over && ex is IOException or InvalidOperationException))
        {
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        if (Storage.StorageFull.Is(ex))
        {
            // Every store writes inside its call's unit of work, and an upload removes its partial blob before
            // its exception gets here: a refused call has taken no effect.
            LogStorageFull(ex, context.Method);
            return new RpcException(new Status(StatusCode.ResourceExhausted,
                "The gateway's storage is full, so the call did not take effect and nothing was stored. Try again once its operator has freed space."));
        }

        var reference = Activity.Current?.TraceId.ToString() ?? context.GetHttpContext().TraceIdentifier;
        LogUnhandled(ex, context.Method, reference);
        return new RpcException(new Status(StatusCode.Internal, $"An internal error occurred. Reference: {reference}"));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unhandled exception in {Method} (reference {Reference})")]
    private partial void LogUnhandled(Exception exception, string method, string reference);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "{Method} refused: the storage is full")]
    private partial void LogStorageFull(Exception exception, string method);
}
