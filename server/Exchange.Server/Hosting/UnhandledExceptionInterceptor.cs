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
    private static readonly TimeSpan CallEndGrace = TimeSpan.FromSeconds(1);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw await TranslateAsync(ex, context, writes: false);
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
            throw await TranslateAsync(ex, context, writes: false);
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
            throw await TranslateAsync(ex, context, writes: true);
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
            throw await TranslateAsync(ex, context, writes: true);
        }
    }

    // writes: whether the handler writes a response stream, whose writes can fail as the call ends under them.
    private async Task<RpcException> TranslateAsync(Exception ex, ServerCallContext context, bool writes)
    {
        if (Storage.StorageFull.Is(ex))
        {
            // Every store writes inside its call's unit of work, and an upload removes its partial blob before
            // its exception gets here: a refused call has taken no effect.
            LogStorageFull(ex, context.Method);
            return new RpcException(new Status(StatusCode.ResourceExhausted,
                "The gateway's storage is full, so the call did not take effect and nothing was stored. Try again once its operator has freed space."));
        }

        // A call that is over (its caller gone or its deadline passed) fails its next write with whatever the
        // transport throws then: "the request is complete" or "the request was aborted" from Kestrel, an out-of-range
        // Advance from the test host's pipe. Nobody hears the answer and nothing went wrong inside the gateway, so it
        // is not logged as an internal error (only at Debug). A streaming handler's failure of any kind counts when
        // the call ends within moments of it; any other handler's only when it is a transport's and the call is over.
        if ((ex is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
            || (ex is IOException or InvalidOperationException && IsOver(context))
            || (writes && (IsOver(context) || await EndsWithinGraceAsync(context))))
        {
            LogCallEnded(ex, context.Method);
            return new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }

        var reference = Activity.Current?.TraceId.ToString() ?? context.GetHttpContext().TraceIdentifier;
        LogUnhandled(ex, context.Method, reference);
        return new RpcException(new Status(StatusCode.Internal, $"An internal error occurred. Reference: {reference}"));
    }

    private static bool IsOver(ServerCallContext context) => context.CancellationToken.IsCancellationRequested
        || context.Status.StatusCode == StatusCode.DeadlineExceeded
        || context.Deadline <= DateTime.UtcNow;

    /// <summary>
    /// Whether the call ends within moments, for a write that failed while every sign still said the call was live.
    /// grpc-dotnet ends a call in steps (status, response completed, stream reset, then the call's token), and at a
    /// deadline its timer may fire a millisecond before the system clock reaches the deadline. A call that is truly
    /// over has its token cancelled within moments; one that is not is an error worth logging.
    /// </summary>
    private static async Task<bool> EndsWithinGraceAsync(ServerCallContext context)
    {
        try
        {
            await Task.Delay(CallEndGrace, context.CancellationToken);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unhandled exception in {Method} (reference {Reference})")]
    private partial void LogUnhandled(Exception exception, string method, string reference);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "{Method} refused: the storage is full")]
    private partial void LogStorageFull(Exception exception, string method);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "{Method} ended under its handler, which then failed")]
    private partial void LogCallEnded(Exception exception, string method);
}
