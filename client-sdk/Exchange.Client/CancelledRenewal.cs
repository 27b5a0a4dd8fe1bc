using Exchange.Client.Transfers;
using Exchange.V1;

namespace Exchange.Client;

/// <summary>A subscription whose renewal its consumer cancelled: the grant as it now ends, and the verified proof that the cancellation was logged.</summary>
/// <param name="Grant">The grant, with its renewal cancel time, and its expiry at the end of the period that was under way.</param>
/// <param name="Receipt">The <c>grant.cancel_renewal</c> event, a signed checkpoint and the event's inclusion proof: the consumer's to keep.</param>
/// <param name="Verification">How the receipt verified: the checkpoint, and the key it was checked against.</param>
public sealed record CancelledRenewal(Grant Grant, TransferReceipt Receipt, ReceiptVerification Verification);
