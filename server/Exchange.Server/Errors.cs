using Grpc.Core;

namespace Exchange.Server;

/// <summary>The gRPC statuses services answer with; messages say what the caller can do about it.</summary>
internal static class Errors
{
    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException PermissionDenied(string message) => new(new Status(StatusCode.PermissionDenied, message));

    public static RpcException FailedPrecondition(string message) => new(new Status(StatusCode.FailedPrecondition, message));

    public static RpcException AlreadyExists(string message) => new(new Status(StatusCode.AlreadyExists, message));

    /// <summary>
    /// The same answer for an object that does not exist and one the caller may not know
    /// exists, so that NOT_FOUND leaks nothing; the metrics alone tell them apart.
    /// </summary>
    public static RpcException NotFound(string name) => new ObjectNotFound(name, ObjectNotFound.MissingOrHidden);

    /// <summary>NOT_FOUND for an object that does not exist.</summary>
    public static RpcException Missing(string name) => new ObjectNotFound(name, ObjectNotFound.Missing);

    /// <summary>NOT_FOUND for an object that exists but that the caller may not know of: to the caller, the same answer as <see cref="Missing"/>.</summary>
    public static RpcException Hidden(string name) => new ObjectNotFound(name, ObjectNotFound.Hidden);

    /// <summary><see cref="Missing"/> when there is no object, <see cref="Hidden"/> when there is one the caller may not see.</summary>
    public static RpcException NotFound(string name, bool exists) => exists ? Hidden(name) : Missing(name);

    /// <summary>The status a domain <see cref="Refusal"/> is answered with; its message goes to the caller as it is.</summary>
    public static RpcException From(Refusal refusal) => refusal.Kind switch
    {
        RefusalKind.NotFound => refusal.ExistenceUnknown ? NotFound(refusal.Name!) : NotFound(refusal.Name!, refusal.Exists),
        RefusalKind.InvalidArgument => InvalidArgument(refusal.Message),
        RefusalKind.AlreadyExists => AlreadyExists(refusal.Message),
        RefusalKind.FailedPrecondition => FailedPrecondition(refusal.Message),
        RefusalKind.Aborted => new(new Status(StatusCode.Aborted, refusal.Message)),
        RefusalKind.OutOfRange => new(new Status(StatusCode.OutOfRange, refusal.Message)),
        RefusalKind.ResourceExhausted => new(new Status(StatusCode.ResourceExhausted, refusal.Message)),
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal.Kind, "Not a refusal kind."),
    };

    /// <summary>
    /// The result of an allowed <paramref name="decision"/>; for a denied one (already in the log),
    /// PERMISSION_DENIED with its reason, counted by action.
    /// </summary>
    public static T Allowed<T>(Audit.Decision<T> decision, Observability.ExchangeTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Denied is { } denial)
        {
            telemetry.Denied("permission_denied", denial.Action);
            throw PermissionDenied(denial.Reason);
        }

        return decision.Value;
    }
}
