using Exchange.V1;
using Google.Protobuf;

namespace Exchange.WebConsole.Verification;

/// <summary>An event's leaf: the exact bytes the log hashed, which the shown fields must match.</summary>
internal static class LeafCheck
{
    /// <summary>The record the leaf encodes when the event shows exactly that record in canonical form; else null and why not.</summary>
    public static (AuditRecord? Record, string? Problem) Decode(AuditEvent e)
    {
        AuditRecord record;
        try
        {
            record = AuditRecord.Parser.ParseFrom(e.Leaf);
        }
        catch (InvalidProtocolBufferException)
        {
            return (null, "its leaf is not an encoded AuditRecord");
        }

        if (!record.ToByteString().Equals(e.Leaf))
        {
            return (null, "its leaf is not in the canonical encoding");
        }

        var matches = Equals(record.Time, e.Time) && record.Actor == e.Actor && record.Action == e.Action &&
            record.Resource == e.Resource && record.Dataset == e.Dataset && record.Outcome == e.Outcome &&
            record.Subject == e.Subject && record.Details.SequenceEqual(e.Details);
        return matches ? (record, null) : (null, "the fields shown differ from what its leaf says");
    }
}
