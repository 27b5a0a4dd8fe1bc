using Exchange.Server.Access;
using Exchange.Server.Catalog;

namespace Exchange.Server.Transfers.Model;

/// <summary>One download under a grant; <see cref="Revision"/> is null for a download denied before a revision was chosen.</summary>
internal sealed record Transfer(
    TransferId Id,
    GrantId Grant,
    DatasetId Dataset,
    RevisionId? Revision,
    string Consumer,
    string Provider,
    string Purpose,
    TransferState State,
    long SizeBytes,
    long BytesSent,
    DateTimeOffset CreateTime,
    DateTimeOffset? EndTime,
    string FailureReason);
