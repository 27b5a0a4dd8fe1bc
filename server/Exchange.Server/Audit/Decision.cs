namespace Exchange.Server.Audit;

/// <summary>
/// What an operation decided: its result, or a <see cref="Denial"/> it has recorded. The one way
/// a denial leaves a unit of work: returned, not thrown, so that the unit commits its record
/// (a thrown exception rolls the unit back), and visible where the service answers. A class, so
/// that no decision exists that was not made (a default value would read as allowed).
/// </summary>
internal sealed class Decision<T>
{
    private readonly T? _value;

    private Decision(T? value, Denial? denial)
    {
        _value = value;
        Denied = denial;
    }

    /// <summary>Set when the caller was refused; the record of it is in the log.</summary>
    public Denial? Denied { get; }

    /// <summary>The result of an allowed operation.</summary>
    public T Value => Denied is null ? _value! : throw new InvalidOperationException($"The operation was denied: {Denied.Reason}");

    public static implicit operator Decision<T>(T value) => new(value, null);

    public static implicit operator Decision<T>(Denial denial) => new(default, denial ?? throw new ArgumentNullException(nameof(denial)));
}
