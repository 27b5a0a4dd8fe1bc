using Exchange.Server.Audit;
using Grpc.Core;

namespace Exchange.Server.Storage;

/// <summary>
/// Thrown by a unit of work whose policy check refused the caller: the writer rolls back whatever
/// the unit did, records <see cref="Entry"/> in its place (denials are audited too), and answers
/// the caller with <see cref="Denial"/> once that record is durable.
/// </summary>
internal sealed class AuditedDenial(AuditEntry entry, RpcException denial) : Exception(denial.Status.Detail)
{
    public AuditEntry Entry { get; } = entry;

    public RpcException Denial { get; } = denial;
}
