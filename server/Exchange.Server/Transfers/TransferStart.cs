using Exchange.Server.Access.Model;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Transfers.Model;

namespace Exchange.Server.Transfers;

/// <summary>
/// An allowed download: the transfer, the revision to send, the grant it is under, which stream of
/// the transfer this is, and how a table is encoded on the way (null: the bytes as stored).
/// </summary>
internal sealed record TransferStart(Transfer Transfer, StoredRevision Revision, Grant Grant, long Attempt, TableOutput? Output = null);
