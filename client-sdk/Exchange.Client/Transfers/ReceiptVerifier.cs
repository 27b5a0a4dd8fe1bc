using System.Globalization;
using Exchange.Client.Audit;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Client.Transfers;

/// <summary>
/// Checks a download receipt on its own: the logged event is the successful completion of exactly
/// the transfer the client saw, and it is included in a checkpoint signed by the log's key.
/// Whether that checkpoint is consistent with what the client trusted before takes the gateway's
/// proofs: <see cref="ExchangeClient.VerifyReceiptAsync"/> does both.
/// </summary>
public static class ReceiptVerifier
{
    /// <summary>The action of the event a receipt must hold.</summary>
    public const string CompletedAction = "transfer.complete";

    /// <summary>The action of the event a query's receipt must hold.</summary>
    public const string QueryAction = "compute.query";

    /// <summary>
    /// Verifies <paramref name="receipt"/> against what the client saw and against <paramref name="key"/>,
    /// which must come from what the client trusts (a pinned key, or the one stored with its trusted
    /// checkpoint), never from the receipt: a receipt's checkpoint names whatever key signed it.
    /// </summary>
    /// <param name="receipt">The receipt from a download's trailer (or from GetTransfer).</param>
    /// <param name="expected">The transfer, grant, revision, size and hash the client saw.</param>
    /// <param name="key">The log's verifier key.</param>
    public static ReceiptVerification Verify(TransferReceipt receipt, ExpectedTransfer expected, NoteVerifierKey key)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return Verify(receipt, record => EventProblem(record, expected), expected.Transfer, key);
    }

    /// <summary>
    /// Verifies the receipt of a query's answer: the logged event is the answered query under the
    /// grant, on the revision, with the SHA-256 of the result the client received; and it is included
    /// in a checkpoint signed by <paramref name="key"/> (see the transfer overload for where the key comes from).
    /// </summary>
    /// <param name="receipt">The receipt from a RunQuery response.</param>
    /// <param name="expected">The grant, revision and result hash the client saw.</param>
    /// <param name="key">The log's verifier key.</param>
    public static ReceiptVerification Verify(TransferReceipt receipt, ExpectedQuery expected, NoteVerifierKey key)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return Verify(receipt, record => EventProblem(record, expected), $"the query under {expected.Grant}", key);
    }

    internal static ReceiptVerification Verify(TransferReceipt receipt, Func<AuditRecord, (VerificationCheck Check, string Message)?> eventProblem,
        string subject, NoteVerifierKey key)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(key);
        if (receipt.Event is null || receipt.Checkpoint is null)
        {
            return ReceiptVerification.Failed(VerificationCheck.Incomplete, "the receipt lacks its event or checkpoint", key);
        }

        var (record, leafProblem) = AuditLogVerifier.DecodeLeaf(receipt.Event);
        if (record is null)
        {
            return ReceiptVerification.Failed(VerificationCheck.Leaf, $"the receipt's event: {leafProblem}", key);
        }

        // From here on only the leaf counts: it is what the log hashed and the proof covers.
        if (eventProblem(record) is { } p)
        {
            return ReceiptVerification.Failed(p.Check, p.Message, key);
        }

        CheckpointNote checkpoint;
        try
        {
            checkpoint = CheckpointNote.ParseVerified(receipt.Checkpoint.Note, key);
        }
        catch (FormatException ex)
        {
            return ReceiptVerification.Failed(VerificationCheck.Signature, $"the receipt's checkpoint does not verify: {ex.Message}", key);
        }

        if (checkpoint.Origin != key.Name)
        {
            return ReceiptVerification.Failed(VerificationCheck.Origin,
                $"the receipt's checkpoint is for log '{checkpoint.Origin}', but the trusted key is named '{key.Name}'", key);
        }

        // The unsigned copies beside the note must say the same, so whoever shows them shows what was verified.
        if (receipt.Checkpoint.Origin != checkpoint.Origin || receipt.Checkpoint.Size != checkpoint.Size ||
            receipt.Checkpoint.LogId != checkpoint.LogId || !receipt.Checkpoint.RootHash.Span.SequenceEqual(checkpoint.RootHash))
        {
            return ReceiptVerification.Failed(VerificationCheck.Signature, "the receipt's checkpoint fields differ from its signed note", key);
        }

        if (!MerkleProofs.VerifyInclusion(receipt.Event.Index, checkpoint.Size, Rfc6962.LeafHash(receipt.Event.Leaf.Span),
            receipt.InclusionProof.Select(h => h.ToByteArray()).ToList(), checkpoint.RootHash))
        {
            return ReceiptVerification.Failed(VerificationCheck.Inclusion,
                $"the receipt's inclusion proof does not lead from event {receipt.Event.Index} to the signed root of size {checkpoint.Size}", key);
        }

        return new ReceiptVerification
        {
            Message = $"{subject} is audit event {receipt.Event.Index}, included in the checkpoint of size {checkpoint.Size} " +
                $"signed by {key.Name}+{key.KeyId:x8}",
            Checkpoint = checkpoint,
            Key = key,
        };
    }

    private static (VerificationCheck Check, string Message)? EventProblem(AuditRecord record, ExpectedTransfer expected)
    {
        if (record.Action != CompletedAction || record.Outcome != AuditOutcome.Success)
        {
            return (VerificationCheck.Event, $"the logged event is '{record.Action}' with outcome {record.Outcome}, not a successful {CompletedAction}");
        }

        if (record.Resource != expected.Transfer)
        {
            return (VerificationCheck.Transfer, $"the logged event is about '{record.Resource}', not {expected.Transfer}");
        }

        var grant = Detail(record, "grant");
        if (grant != expected.Grant)
        {
            return (VerificationCheck.Grant, $"the logged transfer was under '{grant}', not {expected.Grant}");
        }

        var revision = Detail(record, "revision");
        if (revision != expected.Revision)
        {
            return (VerificationCheck.Revision, $"the logged transfer was of '{revision}', not {expected.Revision}");
        }

        var size = Detail(record, "bytes_sent");
        if (size != expected.SizeBytes.ToString(CultureInfo.InvariantCulture))
        {
            return (VerificationCheck.Size, $"the logged transfer sent '{size}' bytes, not the {expected.SizeBytes} received");
        }

        var sha256 = Detail(record, "sha256");
        return sha256 == Convert.ToHexStringLower(expected.Sha256)
            ? null
            : (VerificationCheck.Sha256, $"the logged transfer names SHA-256 '{sha256}', not that of the bytes received");
    }

    private static (VerificationCheck Check, string Message)? EventProblem(AuditRecord record, ExpectedQuery expected)
    {
        if (record.Action != QueryAction || record.Outcome != AuditOutcome.Success)
        {
            return (VerificationCheck.Event, $"the logged event is '{record.Action}' with outcome {record.Outcome}, not an answered {QueryAction}");
        }

        if (record.Resource != expected.Grant)
        {
            return (VerificationCheck.Grant, $"the logged query was under '{record.Resource}', not {expected.Grant}");
        }

        var revision = Detail(record, "revision");
        if (revision != expected.Revision)
        {
            return (VerificationCheck.Revision, $"the logged query ran on '{revision}', not {expected.Revision}");
        }

        var query = Detail(record, "query");
        if (query != expected.Query)
        {
            return (VerificationCheck.Event, $"the logged query is '{query}', not the one the answer names ('{expected.Query}')");
        }

        if (expected.RequestSha256 is { } asked && Detail(record, "request_sha256") != Convert.ToHexStringLower(asked))
        {
            return (VerificationCheck.Event, "the logged query answers another request than the one sent (its request_sha256 differs)");
        }

        var sha256 = Detail(record, "result_sha256");
        return sha256 == Convert.ToHexStringLower(expected.ResultSha256)
            ? null
            : (VerificationCheck.Sha256, $"the logged query names result SHA-256 '{sha256}', not that of the result received");
    }

    /// <summary>The value of a detail, or null when there is none or more than one (which the gateway never writes).</summary>
    private static string? Detail(AuditRecord record, string key)
    {
        var values = record.Details.Where(d => d.Key == key).Select(d => d.Value).Take(2).ToList();
        return values.Count == 1 ? values[0] : null;
    }
}
