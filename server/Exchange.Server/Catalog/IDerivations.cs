using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// What the lineage graph must hear of, and say, inside the caller's unit of work: Lineage implements
/// it, so Access (revocations), Rights (cancellations) and Transfers (downloads) ask without calling into Lineage.
/// </summary>
internal interface IDerivations
{
    /// <summary>
    /// Flags every dataset derived under <paramref name="grant"/>, and all their descendants, telling each
    /// one's provider in the log; their downloads stop unless the grant's terms let descendants survive.
    /// </summary>
    void GrantRevoked(WriteUnit unit, string actor, string grant, string reason);

    /// <summary>
    /// Flags the datasets derived from <paramref name="source"/> (only those declared by <paramref name="holder"/>
    /// when one is named: a licence's), and all their descendants; their downloads stop unless the grant
    /// each was derived under says descendants survive.
    /// </summary>
    void RightCancelled(WriteUnit unit, string actor, DatasetId source, string? holder, string right, string reason);

    /// <summary>Why downloads of <paramref name="dataset"/> are stopped by its lineage, or null.</summary>
    string? DownloadBlock(WriteUnit unit, DatasetId dataset);
}
