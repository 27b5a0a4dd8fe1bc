using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// What the rights registry says about a provider offering a dataset, inside the caller's unit of
/// work: Rights implements it, so Catalog and Access ask without calling into Rights.
/// </summary>
internal interface IRightsGate
{
    /// <summary>Why <paramref name="provider"/> may not publish <paramref name="dataset"/>, or null when it may.</summary>
    string? PublishProblem(WriteUnit unit, DatasetId dataset, string provider);

    /// <summary>Why <paramref name="provider"/> may not grant <paramref name="purposes"/> until <paramref name="expireTime"/> (null: no end), or null.</summary>
    string? ApprovalProblem(WriteUnit unit, DatasetId dataset, string provider, IReadOnlyCollection<string> purposes, DateTimeOffset? expireTime);
}
