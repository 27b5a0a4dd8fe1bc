using Exchange.Server.Access.Model;
using Exchange.Server.Storage;

namespace Exchange.Server.Access;

/// <summary>
/// What Access, Transfers and Compute tell Billing of each chargeable event, inside the unit of work
/// that records it, so a charge commits with its event or not at all. Each call charges at most once
/// per event however often it is made; a grant accepting no priced offer is charged nothing.
/// </summary>
internal interface IMeter
{
    /// <summary>A grant was approved (audit event <paramref name="approveIndex"/>): a one-off price, or a subscription's first period.</summary>
    void Approved(WriteUnit unit, Grant grant, long approveIndex);

    /// <summary>
    /// A stream of transfer <paramref name="transfer"/> (<c>transfers/{id}</c>) ended, completed or not, recorded
    /// as audit event <paramref name="eventIndex"/>; <paramref name="bytesSent"/> is what the transfer has sent in all.
    /// </summary>
    void TransferEnded(WriteUnit unit, Grant grant, string transfer, long attempt, bool completed, long bytesSent, long eventIndex);

    /// <summary>A query under the grant was answered, recorded as audit event <paramref name="queryIndex"/>.</summary>
    void QueryAnswered(WriteUnit unit, Grant grant, long queryIndex);

    /// <summary>
    /// The consumer of an active grant under an auto-renewing subscription cancels its renewal: the periods that have started are
    /// charged, and no more. Returns when the first period not charged starts, the grant's end; null when it renews no more already.
    /// </summary>
    DateTimeOffset? EndRenewal(WriteUnit unit, Grant grant);
}
