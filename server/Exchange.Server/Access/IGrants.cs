using Exchange.Server.Access.Model;
using Exchange.Server.Storage;

namespace Exchange.Server.Access;

/// <summary>What Transfers may ask of Access, inside its own unit of work: the grant a download is made under, and counting its use.</summary>
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
}
