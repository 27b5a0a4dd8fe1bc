namespace Exchange.Server.Audit;

/// <summary>
/// A policy's refusal of the caller, already appended to the audit log (outcome DENIED) in the
/// unit of work that decided it: the service answers PERMISSION_DENIED with <see cref="Reason"/>
/// once that unit has committed.
/// </summary>
internal sealed record Denial(string Action, string Reason);
