using Exchange.Server.Access;
using Exchange.Server.Access.Model;
using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Transfers;

/// <summary>
/// What Transfers asks of Access and the Catalog, inside its own unit of work, in one place: for
/// now through their stores' static reads (mapped to the domain models here); IGrants and
/// ICatalog once those features offer them, with no change outside this file.
/// </summary>
internal sealed class GrantsAndDatasets
{
    /// <summary>The grant, its state as of the unit's time, or null (IGrants.Find).</summary>
    public Grant? FindGrant(WriteUnit unit, GrantId id) =>
        AccessStore.FindGrant(unit.Connection, unit.Transaction, id.Value, unit.Now) is { } grant ? Map(grant) : null;

    /// <summary>Counts one more transfer under the grant, towards its max_transfers (IGrants.CountTransfer).</summary>
    public void CountTransfer(WriteUnit unit, GrantId id) =>
        unit.Command("UPDATE grants SET transfers_used = transfers_used + 1 WHERE id = @id").With("@id", id.Value).ExecuteNonQuery();

    /// <summary>The dataset as <paramref name="caller"/> may see it, or null (ICatalog.FindVisible).</summary>
    public Dataset? FindVisible(WriteUnit unit, DatasetId id, Caller caller) =>
        CatalogStore.FindVisible(unit.Connection, unit.Transaction, id.Value, caller) is { } dataset ? Map(dataset) : null;

    /// <summary>The number of the dataset's latest revision, 0 before the first upload, whoever asks (the dataset's LatestRevision).</summary>
    public long LatestRevision(WriteUnit unit, DatasetId id) =>
        (long)unit.Command("SELECT latest_revision FROM datasets WHERE id = @id").With("@id", id.Value).ExecuteScalar()!;

    private static Grant Map(V1.Grant grant) => new(
        new GrantId(grant.Name["grants/".Length..]),
        DatasetId.FromName(grant.Dataset),
        grant.Consumer,
        grant.Provider,
        new AccessRequestId(grant.AccessRequest["accessRequests/".Length..]),
        TermsMapping.FromProto(grant.Terms ?? new V1.Terms()),
        grant.TransfersUsed,
        grant.RevokeTime?.ToDateTimeOffset(),
        grant.RevokeReason,
        grant.CreateTime?.ToDateTimeOffset() ?? default,
        (GrantState)(int)grant.State);

    private static Dataset Map(V1.Dataset dataset) => new(
        DatasetId.FromName(dataset.Name),
        dataset.Provider,
        dataset.Title,
        dataset.Description,
        [.. dataset.Tags],
        (Classification)(int)dataset.Classification,
        (DatasetState)(int)dataset.State,
        dataset.AutoApprovalTerms is { } terms ? TermsMapping.FromProto(terms) : null,
        dataset.LatestRevision.Length == 0 ? 0 : RevisionId.Parse(dataset.LatestRevision).Number,
        dataset.CreateTime?.ToDateTimeOffset() ?? default,
        dataset.UpdateTime?.ToDateTimeOffset() ?? default,
        dataset.DelistReason);
}
