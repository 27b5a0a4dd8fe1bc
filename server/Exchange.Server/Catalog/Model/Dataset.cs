namespace Exchange.Server.Catalog.Model;

/// <summary>A dataset as the catalog stores it; <see cref="LatestRevision"/> is 0 before the first upload.</summary>
internal sealed record Dataset(
    DatasetId Id,
    string Provider,
    string Title,
    string Description,
    IReadOnlyList<string> Tags,
    Classification Classification,
    DatasetState State,
    Terms? AutoApprovalTerms,
    long LatestRevision,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime,
    string DelistReason,
    V1.LineageStatus LineageStatus = V1.LineageStatus.Unspecified,
    string LineageReason = "")
{
    public bool Equals(Dataset? other) =>
        other is not null && Id == other.Id && Provider == other.Provider && Title == other.Title && Description == other.Description
        && Tags.SequenceEqual(other.Tags, StringComparer.Ordinal) && Classification == other.Classification && State == other.State
        && Equals(AutoApprovalTerms, other.AutoApprovalTerms) && LatestRevision == other.LatestRevision
        && CreateTime == other.CreateTime && UpdateTime == other.UpdateTime && DelistReason == other.DelistReason
        && LineageStatus == other.LineageStatus && LineageReason == other.LineageReason;

    public override int GetHashCode() => HashCode.Combine(Id, UpdateTime);
}
