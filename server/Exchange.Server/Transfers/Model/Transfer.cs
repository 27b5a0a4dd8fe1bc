using Exchange.Server.Access;
using Exchange.Server.Catalog;

namespace Exchange.Server.Transfers.Model;

/// <summary>
/// One download under a grant; <see cref="Revision"/> is null for a download denied before a
/// revision was chosen. <see cref="Format"/> is the format a table is encoded in as it streams
/// (unspecified: the bytes as stored); then <see cref="SizeBytes"/> is known only once it completes.
/// </summary>
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
    string FailureReason,
    V1.TableFormat Format = V1.TableFormat.Unspecified);
