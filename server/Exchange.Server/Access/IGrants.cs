using Exchange.Server.Access.Model;
using Exchange.Server.Storage;

namespace Exchange.Server.Access;

/// <summary>
/// What Transfers and Compute may ask of Access: inside their own unit of work, the grant a download or query is made under, and
/// counting its use; outside one, the grant as it stands now (a running download reads again whether its grant has ended).
/// </summary>
internal interface IGrants
{
    /// <summary>The grant, its state as of the unit's time, or null.</summary>
    Grant? Find(WriteUnit unit, GrantId id);

    /// <summary>Counts one more transfer under the grant (towards its max_transfers).</summary>
    void CountTransfer(WriteUnit unit, GrantId id);

    /// <summary>
    /// When an exhausted grant used its last transfer; null while it has transfers left. A grant
    /// exhausted before that was recorded (schema 14) counts as exhausted from the unit's time.
    /// </summary>
    DateTimeOffset? ExhaustTime(WriteUnit unit, Grant grant);

    /// <summary>The grant as committed, its state as of <paramref name="now"/>, or null.</summary>
    Task<Grant?> GetGrantAsync(GrantId id, DateTimeOffset now, CancellationToken cancellationToken);
}
