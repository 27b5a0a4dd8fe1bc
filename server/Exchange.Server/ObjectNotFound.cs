using Grpc.Core;

namespace Exchange.Server;

/// <summary>
/// NOT_FOUND for a named object, carrying for the gateway's own metrics (never for the caller)
/// whether the object is missing or exists but is hidden from this caller: how often callers probe
/// other participants' objects is worth watching, and the answer must not tell them.
/// </summary>
internal sealed class ObjectNotFound(string name, string reason) : RpcException(new Status(StatusCode.NotFound, $"'{name}' was not found."))
{
    public const string Missing = "missing";
    public const string Hidden = "hidden";
    public const string MissingOrHidden = "missing_or_hidden";

    /// <summary>The kind of object asked for, from its name: datasets, grants, transfers, accessRequests.</summary>
    public string Kind { get; } = name.Split('/')[0];

    public string Reason { get; } = reason;
}
