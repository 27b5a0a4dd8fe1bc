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
    /// <param name="receipt">The receipt from a download's trailer.</param>
    /// <param name="transfer">The transfer it should be for.</param>
    /// <param name="key">The log's verifier key to require.</param>
    /// <param name="sha256">When given, the SHA-256 of the revision the logged event must name.</param>
    public static string? Problem(TransferReceipt receipt, string transfer, NoteVerifierKey? key = null, byte[]? sha256 = null)
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

        AuditRecord record;
        try
        {
            record = AuditRecord.Parser.ParseFrom(receipt.Event.Leaf);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return "the receipt's leaf is not an audit record";
        }

        if (record.Action != receipt.Event.Action || record.Resource != receipt.Event.Resource)
        {
            return "the receipt's event differs from its leaf";
        }

        if (sha256 is not null && record.Details.FirstOrDefault(d => d.Key == "sha256")?.Value != Convert.ToHexStringLower(sha256))
        {
            return "the logged transfer names other bytes than the ones received";
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
