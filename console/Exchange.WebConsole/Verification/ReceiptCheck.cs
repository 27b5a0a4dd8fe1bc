using System.Globalization;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.WebConsole.Verification;

/// <summary>
/// A transfer's receipt checked in the browser: its event is the successful completion of this
/// transfer with the size delivered, and an inclusion proof ties it to a checkpoint signed by the
/// pinned key (never by whatever key the receipt names).
/// </summary>
internal static class ReceiptCheck
{
    public static EventVerdict Verify(Transfer transfer, NoteVerifierKey key)
    {
        var receipt = transfer.Receipt;
        if (receipt?.Event is null || receipt.Checkpoint is null)
        {
            return new EventVerdict(-1, VerdictState.Failed, $"{transfer.Name} has no receipt (only completed transfers have one).");
        }

        var e = receipt.Event;
        var (record, problem) = LeafCheck.Decode(e);
        if (record is null)
        {
            return new EventVerdict(e.Index, VerdictState.Failed, $"The receipt's event {e.Index}: {problem}.");
        }

        if (record.Action != "transfer.complete" || record.Outcome != AuditOutcome.Success || record.Resource != transfer.Name)
        {
            return new EventVerdict(e.Index, VerdictState.Failed,
                $"The receipt's event {e.Index} is '{record.Action}' on '{record.Resource}', not the completion of {transfer.Name}.");
        }

        var sent = record.Details.FirstOrDefault(d => d.Key == "bytes_sent")?.Value;
        if (sent != transfer.BytesSent.ToString(CultureInfo.InvariantCulture))
        {
            return new EventVerdict(e.Index, VerdictState.Failed, $"The receipt logs {sent ?? "no"} bytes sent, the transfer shows {transfer.BytesSent}.");
        }

        CheckpointNote checkpoint;
        try
        {
            checkpoint = CheckpointNote.ParseVerified(receipt.Checkpoint.Note, key);
        }
        catch (FormatException ex)
        {
            return new EventVerdict(e.Index, VerdictState.Failed, $"The receipt's checkpoint does not verify with the pinned key: {ex.Message}");
        }

        var proof = receipt.InclusionProof.Select(h => h.ToByteArray()).ToList();
        return checkpoint.Origin == key.Name &&
            MerkleProofs.VerifyInclusion(e.Index, checkpoint.Size, Rfc6962.LeafHash(e.Leaf.Span), proof, checkpoint.RootHash)
            ? new EventVerdict(e.Index, VerdictState.Verified,
                $"{transfer.Name} is audit event {e.Index}, in the checkpoint of size {checkpoint.Size} signed by {key.Name}+{key.KeyId:x8}.",
                proof.Count, checkpoint.Size)
            : new EventVerdict(e.Index, VerdictState.Failed,
                $"The receipt's inclusion proof does not lead from event {e.Index} to the signed root of size {checkpoint.Size}.", proof.Count, checkpoint.Size);
    }
}
