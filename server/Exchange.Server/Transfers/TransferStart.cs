using Exchange.Server.Access.Model;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Transfers.Model;

namespace Exchange.Server.Transfers;

/// <summary>An allowed download: the transfer, the revision to send, the grant it is under and which stream of the transfer this is.</summary>
internal sealed record TransferStart(Transfer Transfer, StoredRevision Revision, Grant Grant, long Attempt);
