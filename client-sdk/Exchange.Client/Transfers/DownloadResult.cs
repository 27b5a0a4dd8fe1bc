using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Client.Transfers;

/// <summary>A finished, verified download.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Transfer">The transfer, <c>transfers/{id}</c>.</param>
/// <param name="Revision">The revision downloaded.</param>
/// <param name="SizeBytes">Its size.</param>
/// <param name="Sha256">Its SHA-256, which the file was checked against.</param>
/// <param name="Receipt">Proof that the transfer was logged, already verified.</param>
/// <param name="Resumed">Whether an interrupted transfer was continued.</param>
/// <param name="Verification">How the receipt was verified: against which key and checkpoint.</param>
public sealed record DownloadResult(string Path, string Transfer, string Revision, long SizeBytes, byte[] Sha256, TransferReceipt Receipt,
    bool Resumed, ReceiptVerification Verification)
{
    /// <summary>The signed checkpoint the transfer's event was proven to be in (the receipt's, verified).</summary>
    public CheckpointNote Checkpoint => Verification.Checkpoint!;
}
