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
    /// exists, so that NOT_FOUND leaks nothing.
    /// </summary>
    public static RpcException NotFound(string name) => new(new Status(StatusCode.NotFound, $"'{name}' was not found."));
}
