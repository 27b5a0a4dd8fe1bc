using System.Security.Cryptography;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Storage;

/// <summary>
/// What a state change records: the fields of an <see cref="AuditRecord"/> plus the dataset's
/// provider, which decides who may read the entry but is not part of the signed leaf.
/// </summary>
internal sealed record AuditEntry(
    string Actor,
    string Action,
    string Resource,
    Outcome Outcome,
    string Dataset = "",
    string Subject = "",
    string DatasetProvider = "",
    IReadOnlyDictionary<string, string>? Details = null)
{
    public const uint Version = 1;

    /// <summary>
    /// The leaf bytes: the protobuf encoding of a version 1 <see cref="AuditRecord"/>. Fields are
    /// written in field-number order, details sorted by key (ordinal), no unknown fields, so a
    /// record always decodes and re-encodes to the same bytes. A fresh random nonce makes every
    /// leaf's hash unguessable.
    /// </summary>
    public byte[] Encode(DateTimeOffset time)
    {
        var record = new AuditRecord
        {
            Version = Version,
            Time = Timestamp.FromDateTimeOffset(time),
            Actor = Actor,
            Action = Action,
            Resource = Resource,
            Dataset = Dataset,
            Outcome = (AuditOutcome)Outcome,
            Subject = Subject,
            Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
        };
        if (Details is not null)
        {
            record.Details.Add(Details.OrderBy(d => d.Key, StringComparer.Ordinal)
                .Select(d => new AuditDetail { Key = d.Key, Value = d.Value }));
        }

        return record.ToByteArray();
    }

    /// <summary>An <see cref="AuditEvent"/>: its index, the exact leaf, and the fields decoded from it.</summary>
    public static AuditEvent Decode(long index, byte[] leaf)
    {
        var record = AuditRecord.Parser.ParseFrom(leaf);
        var auditEvent = new AuditEvent
        {
            Index = index,
            Leaf = ByteString.CopyFrom(leaf),
            Time = record.Time,
            Actor = record.Actor,
            Action = record.Action,
            Resource = record.Resource,
            Dataset = record.Dataset,
            Outcome = record.Outcome,
            Subject = record.Subject,
        };
        auditEvent.Details.Add(record.Details);
        return auditEvent;
    }
}
