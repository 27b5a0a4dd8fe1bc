using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// The outcome of asking to download: the transfer and the revision to send, or a denial that is
/// already recorded (as a DENIED transfer and audit event) and is thrown once committed.
/// </summary>
internal sealed record TransferStart(Transfer? Transfer, StoredRevision? Revision, Grant? Grant, RpcException? Denial, long Attempt = 1);
