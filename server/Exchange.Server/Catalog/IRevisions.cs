using Exchange.Server.Catalog.Model;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>What Transfers and Access may ask of a dataset's revisions, inside their own unit of work.</summary>
internal interface IRevisions
{
    /// <summary>Reserves the dataset's next revision number; numbers of abandoned uploads are not reused.</summary>
    long Reserve(WriteUnit unit, DatasetId id);

    /// <summary>Stores an uploaded revision and makes it the dataset's latest when it is the newest.</summary>
    Revision Add(WriteUnit unit, StoredRevision revision);

    /// <summary>The number of the dataset's latest revision, 0 before its first upload.</summary>
    long Latest(WriteUnit unit, DatasetId id);

    /// <summary>A revision with where its bytes are, or null.</summary>
    StoredRevision? Find(WriteUnit unit, RevisionId id);

    /// <summary>The columns of the dataset's latest revision when it is a table; null when it has none or is not one.</summary>
    IReadOnlyList<V1.Column>? LatestColumns(WriteUnit unit, DatasetId id);
}
