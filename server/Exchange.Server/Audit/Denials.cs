using Exchange.Server.Storage;

namespace Exchange.Server.Audit;

/// <summary>How a unit of work refuses its caller: it records the refusal and returns it.</summary>
internal static class Denials
{
    /// <summary>
    /// Appends <paramref name="entry"/> as a DENIED event with <paramref name="reason"/> among its
    /// details, in this unit of work, and returns the <see cref="Denial"/> to give back.
    /// </summary>
    public static Denial Deny(this WriteUnit unit, AuditEntry entry, string reason)
    {
        var details = new Dictionary<string, string>(entry.Details ?? new Dictionary<string, string>()) { ["reason"] = reason };
        unit.Record(entry with { Outcome = Outcome.Denied, Details = details });
        return new Denial(entry.Action, reason);
    }
}
