namespace Exchange.Server;

/// <summary>
/// Why an operation did not take effect, in the domain's words: thrown by operations and stores
/// (inside a unit of work, so whatever it did is rolled back), and turned into a gRPC status only
/// at the edge (<see cref="Hosting.RefusalInterceptor"/>). The message is for the caller: it says
/// what to do about it.
/// </summary>
internal sealed class Refusal : Exception
{
    private Refusal(RefusalKind kind, string message, string? name = null, bool exists = false, bool unknown = false)
        : base(message)
    {
        Kind = kind;
        Name = name;
        Exists = exists;
        ExistenceUnknown = unknown;
    }

    public RefusalKind Kind { get; }

    /// <summary>For <see cref="RefusalKind.NotFound"/>: the resource name asked for.</summary>
    public string? Name { get; }

    /// <summary>
    /// For <see cref="RefusalKind.NotFound"/>: whether the object exists but is hidden from the
    /// caller. Only the gateway's metrics see it; the caller gets the same answer either way.
    /// </summary>
    public bool Exists { get; }

    /// <summary>For <see cref="RefusalKind.NotFound"/>: whether the object is missing or hidden is not said (<see cref="NotVisible"/>).</summary>
    public bool ExistenceUnknown { get; }

    /// <summary>The object does not exist, or the caller may not know it does (<paramref name="exists"/>).</summary>
    public static Refusal NotFound(string name, bool exists) => new(RefusalKind.NotFound, $"'{name}' was not found.", name, exists);

    /// <summary>
    /// The object does not exist or the caller may not see it, not saying which even to the metrics
    /// (they count it as missing_or_hidden): what a visibility lookup that does not tell them apart answers.
    /// </summary>
    public static Refusal NotVisible(string name) => new(RefusalKind.NotFound, $"'{name}' was not found.", name, unknown: true);

    /// <summary>The object is not in a state the operation needs.</summary>
    public static Refusal Precondition(string message) => new(RefusalKind.FailedPrecondition, message);

    /// <summary>What the operation would create already exists.</summary>
    public static Refusal Conflict(string message) => new(RefusalKind.AlreadyExists, message);

    /// <summary>The request contradicts what it refers to (found only once that was read).</summary>
    public static Refusal Invalid(string message) => new(RefusalKind.InvalidArgument, message);

    /// <summary>Another operation holds the object for now; the same call may succeed soon.</summary>
    public static Refusal Busy(string message) => new(RefusalKind.Aborted, message);

    /// <summary>A position past the end of the object.</summary>
    public static Refusal OutOfRange(string message) => new(RefusalKind.OutOfRange, message);

    /// <summary>The caller has too much under way; it may ask again once some of it has ended.</summary>
    public static Refusal Exhausted(string message) => new(RefusalKind.ResourceExhausted, message);
}
