namespace Exchange.Server;

/// <summary>The kinds of <see cref="Refusal"/>, each answered with the gRPC status of the same name (AIP-193).</summary>
internal enum RefusalKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    ResourceExhausted,
}
