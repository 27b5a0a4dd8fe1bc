using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// What other features (Access, Transfers) may ask of the catalog, inside their own unit of work
/// so their checks and the catalog's answer cannot drift apart. Implemented by the catalog's stores.
/// </summary>
internal interface ICatalog
{
    /// <summary>The dataset as <paramref name="caller"/> may see it (DatasetPolicy.CanSee, grants included), or null.</summary>
    Dataset? FindVisible(WriteUnit unit, DatasetId id, Caller caller);

    /// <summary>Reserves the dataset's next revision number; numbers of abandoned uploads are not reused.</summary>
    long ReserveRevision(WriteUnit unit, DatasetId id);

    /// <summary>Stores an uploaded revision and makes it the dataset's latest when it is the newest.</summary>
    Revision AddRevision(WriteUnit unit, StoredRevision revision);

    /// <summary>A revision with where its bytes are, or null.</summary>
    StoredRevision? FindRevision(WriteUnit unit, RevisionId id);
}
