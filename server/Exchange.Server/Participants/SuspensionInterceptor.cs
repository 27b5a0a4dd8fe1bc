using System.Security.Claims;
using Exchange.Server.Security;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Exchange.Server.Participants;

/// <summary>
/// Refuses every exchange.v1 call of a suspended participant with PERMISSION_DENIED, naming the
/// suspension and its reason, before the service sees it (so before any effect). Streams are held
/// to it as they run too: a download's next message, an upload's next chunk and a watch's next
/// event fail the same way once the participant is suspended. One in-memory lookup per call (none
/// while nobody is suspended) and per streamed message; anonymous calls (health, reflection) pass.
/// The refusals are counted (exchange denials, reason "suspended") but not logged one by one: the
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

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var participant = Participant(context);
        Refuse(participant);
        return continuation(participant is null ? requestStream : new Reader<TRequest>(requestStream, this, participant), context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var participant = Participant(context);
        Refuse(participant);
        return continuation(request, participant is null ? responseStream : new Writer<TResponse>(responseStream, this, participant), context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var participant = Participant(context);
        Refuse(participant);
        return participant is null
            ? continuation(requestStream, responseStream, context)
            : continuation(new Reader<TRequest>(requestStream, this, participant), new Writer<TResponse>(responseStream, this, participant), context);
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

    private sealed class Reader<T>(IAsyncStreamReader<T> inner, SuspensionInterceptor owner, string participant) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            var more = await inner.MoveNext(cancellationToken);
            owner.Refuse(participant);
            return more;
        }
    }

    private sealed class Writer<T>(IServerStreamWriter<T> inner, SuspensionInterceptor owner, string participant) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message)
        {
            owner.Refuse(participant);
            return inner.WriteAsync(message);
        }

        public Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            owner.Refuse(participant);
            return inner.WriteAsync(message, cancellationToken);
        }
    }
}
