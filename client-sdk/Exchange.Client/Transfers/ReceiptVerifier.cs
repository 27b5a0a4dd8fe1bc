using Exchange.Client.Audit;
using Exchange.V1;

namespace Exchange.Client.Transfers;

/// <summary>Checks a download receipt: the transfer's completion event is in a checkpoint signed by the log's key.</summary>
public static class ReceiptVerifier
{
    /// <summary>
    /// Null when <paramref name="receipt"/> proves that <paramref name="transfer"/> completed and was
    /// logged, else what is wrong. <paramref name="key"/> pins the log's key; when null, the key the
    /// checkpoint names is used (which proves inclusion, not who signed).
    /// </summary>
    public static string? Problem(TransferReceipt receipt, string transfer, NoteVerifierKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        if (receipt.Event is null || receipt.Checkpoint is null)
        {
            return "the receipt lacks its event or checkpoint";
        }

        if (receipt.Event.Action != "transfer.complete" || receipt.Event.Resource != transfer)
        {
            return $"the receipt's event is '{receipt.Event.Action}' on '{receipt.Event.Resource}', not the completion of {transfer}";
        }

        var record = AuditRecord.Parser.ParseFrom(receipt.Event.Leaf);
        if (record.Action != receipt.Event.Action || record.Resource != receipt.Event.Resource)
        {
            return "the receipt's event differs from its leaf";
        }

        CheckpointNote checkpoint;
        try
        {
            checkpoint = CheckpointNote.ParseVerified(receipt.Checkpoint.Note, key ?? NoteVerifierKey.Parse(receipt.Checkpoint.VerifierKey));
        }
        catch (FormatException ex)
        {
            return $"the receipt's checkpoint does not verify: {ex.Message}";
        }

        return MerkleProofs.VerifyInclusion(receipt.Event.Index, checkpoint.Size, Rfc6962.LeafHash(receipt.Event.Leaf.Span),
            receipt.InclusionProof.Select(h => h.ToByteArray()).ToList(), checkpoint.RootHash)
            ? null
            : "the receipt's inclusion proof does not lead to the signed root";
    }
}
