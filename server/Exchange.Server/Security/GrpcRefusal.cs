namespace Exchange.Server.Security;

/// <summary>
/// A call refused before it reaches a gRPC service, answered the way gRPC clients read it: a
/// trailers-only response (HTTP 200) whose grpc-status and grpc-message say what happened,
/// instead of a bare HTTP status that clients can only report as "Bad gRPC response".
/// </summary>
internal static class GrpcRefusal
{
    public const int PermissionDenied = 7;
    public const int Unauthenticated = 16;

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static void Write(HttpResponse response, int status, string message)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }
}
