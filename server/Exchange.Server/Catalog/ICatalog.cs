using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// What other features (Access, Transfers) may ask of the catalog's datasets, inside their own unit
/// of work so their checks and the catalog's answer cannot drift apart.
/// </summary>
internal interface ICatalog
{
    /// <summary>The dataset as <paramref name="caller"/> may see it (DatasetPolicy.CanSee, grants included), or null.</summary>
    Dataset? FindVisible(WriteUnit unit, DatasetId id, Caller caller);

    /// <summary>The same, read outside any unit of work (from the catalog's read cache when it can).</summary>
    Task<Dataset?> GetVisibleAsync(DatasetId id, Caller caller, CancellationToken cancellationToken);
}
