using System.Security.Claims;
using Exchange.Server.Security;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Exchange.Server.Participants;

/// <summary>
/// Refuses every exchange.v1 call of a suspended participant with PERMISSION_DENIED, naming the
/// suspension and its reason, before the service sees it (so before any effect). Streams are held
/// to it while they run too: once the participant is suspended, a download's or watch's next (or
/// waiting) write and an upload's next (or awaited) read fail the same way, so a running transfer
/// stops and is recorded as failed with that reason. One in-memory lookup per call (none while
/// nobody is suspended) and per streamed message; anonymous calls (health, reflection) pass.
/// The refusals are counted (denials with reason "suspended") but not logged one by one: the
/// suspension itself is in the log, and a suspended participant must not be able to grow it.
/// </summary>
internal sealed class SuspensionInterceptor(Suspensions suspensions, Observability.ExchangeTelemetry telemetry) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (suspensions.Any)
        {
            Refuse(Participant(context));
        }

        return continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (Participant(context) is not { } participant)
        {
            return await continuation(requestStream, context);
        }

        Refuse(participant);
        using var lease = suspensions.Watch(participant);
        return await continuation(new Reader<TRequest>(requestStream, this, participant, lease.Stopped), context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (Participant(context) is not { } participant)
        {
            await continuation(request, responseStream, context);
            return;
        }

        Refuse(participant);
        using var lease = suspensions.Watch(participant);
        await continuation(request, new Writer<TResponse>(responseStream, this, participant, lease.Stopped), context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (Participant(context) is not { } participant)
        {
            await continuation(requestStream, responseStream, context);
            return;
        }

        Refuse(participant);
        using var lease = suspensions.Watch(participant);
        await continuation(new Reader<TRequest>(requestStream, this, participant, lease.Stopped),
            new Writer<TResponse>(responseStream, this, participant, lease.Stopped), context);
    }

    /// <summary>The message a suspended participant's calls are refused with.</summary>
    public static string Message(string participant, string reason) =>
        $"'{participant}' is suspended from the exchange by an operator: {reason}. Every call is refused until an operator reinstates it.";

    /// <summary>The authenticated participant behind a call; null for anonymous calls.</summary>
    private static string? Participant(ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        return user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ExchangeClaims.Subject) : null;
    }

    private void Refuse(string? participant)
    {
        if (participant is not null && suspensions.Any && suspensions.ReasonFor(participant) is { } reason)
        {
            telemetry.Denied("suspended");
            throw Errors.PermissionDenied(Message(participant, reason));
        }
    }

    /// <summary>
    /// Awaits a stream operation until it completes or the participant is suspended. A token
    /// cancelled by a suspension that was lifted again at once (an old lease) waits on.
    /// </summary>
    private async Task<T> Guard<T>(Task<T> operation, string participant, CancellationToken suspended)
    {
        try
        {
            return await operation.WaitAsync(suspended).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (suspended.IsCancellationRequested)
        {
            // Suspended now: refused. Otherwise the operation goes on (or has just ended) as if nothing happened.
            Refuse(participant);
            return await operation.ConfigureAwait(false);
        }
    }

    private sealed class Reader<T>(IAsyncStreamReader<T> inner, SuspensionInterceptor owner, string participant, CancellationToken suspended)
        : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            owner.Refuse(participant);
            var read = inner.MoveNext(cancellationToken);
            var more = read.IsCompleted ? await read : await owner.Guard(read, participant, suspended);
            owner.Refuse(participant);
            return more;
        }
    }

    private sealed class Writer<T>(IServerStreamWriter<T> inner, SuspensionInterceptor owner, string participant, CancellationToken suspended)
        : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            owner.Refuse(participant);
            var write = cancellationToken.CanBeCanceled ? inner.WriteAsync(message, cancellationToken) : inner.WriteAsync(message);
            return write.IsCompleted ? write : owner.Guard(Completion(write), participant, suspended);
        }

        private static async Task<bool> Completion(Task write)
        {
            await write.ConfigureAwait(false);
            return true;
        }
    }
}
