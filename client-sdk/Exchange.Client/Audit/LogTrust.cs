using Exchange.Client.Transfers;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Client.Audit;

/// <summary>
/// What an <see cref="ExchangeClient"/> trusts about the logs its gateway shows: for the log a
/// receipt's checkpoint is of (origin, key and log id, see <see cref="TrustedLog"/>), the verifier key
/// (pinned; else the one stored with that log's trusted checkpoint; else, when allowed, the key the
/// gateway publishes, on first use) and the last checkpoint accepted from it, which every later
/// receipt's checkpoint of that log must be consistent with. Accepted checkpoints that are newer
/// become the trusted one.
/// </summary>
internal sealed class LogTrust(ExchangeClient client, NoteVerifierKey? pinnedKey, TrustedCheckpointStore? store, bool trustOnFirstUse)
    : IDisposable
{
    // One check at a time, so that concurrent downloads move the trusted checkpoint forward in order.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // The trusted logs when there is no store to keep them in.
    private List<TrustedLog> _remembered = [];

    public Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, ExpectedTransfer expected, CancellationToken cancellationToken) =>
        VerifyAsync(receipt, key => ReceiptVerifier.Verify(receipt, expected, key), cancellationToken);

    public Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, ExpectedQuery expected, CancellationToken cancellationToken) =>
        VerifyAsync(receipt, key => ReceiptVerifier.Verify(receipt, expected, key), cancellationToken);

    /// <summary>Verifies that the receipt's event is the one expected (<paramref name="eventProblem"/> says how it is not) and is in the trusted log.</summary>
    public Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, Func<AuditRecord, (VerificationCheck Check, string Message)?> eventProblem,
        string subject, CancellationToken cancellationToken) =>
        VerifyAsync(receipt, key => ReceiptVerifier.Verify(receipt, eventProblem, subject, key), cancellationToken);

    /// <summary>Verifies that any event (a receipt built from the event, a checkpoint and its inclusion proof) is in the trusted log.</summary>
    public Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, string subject, CancellationToken cancellationToken) =>
        VerifyAsync(receipt, key => ReceiptVerifier.Verify(receipt, _ => null, subject, key), cancellationToken);

    private async Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, Func<NoteVerifierKey, ReceiptVerification> verify,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await VerifyOneAsync(receipt, verify, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<ReceiptVerification> VerifyOneAsync(TransferReceipt receipt, Func<NoteVerifierKey, ReceiptVerification> verify,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<TrustedLog> logs;
        try
        {
            logs = store is null ? _remembered : store.Logs();
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            return ReceiptVerification.Failed(VerificationCheck.Trust, $"the trusted checkpoints in '{store!.Path}' cannot be used: {ex.Message}");
        }

        // Which log the receipt's checkpoint says it is of, only to find what is trusted about that log;
        // its signature is checked below (one that cannot be read fails there).
        CheckpointNote? claimed;
        try
        {
            claimed = receipt.Checkpoint is { } c ? CheckpointNote.ParseUnverified(c.Note) : null;
        }
        catch (FormatException)
        {
            claimed = null;
        }

        var trusted = claimed is null ? null : TrustedLog.Find(logs, claimed.Origin, claimed.LogId, pinnedKey);
        NoteVerifierKey key;
        var firstUse = false;
        if (pinnedKey is not null)
        {
            if (trusted is { } t && t.VerifierKey != pinnedKey.Encoded)
            {
                return ReceiptVerification.Failed(VerificationCheck.Trust,
                    $"the trusted checkpoint was signed by {t.VerifierKey}, not by the pinned key {pinnedKey.Encoded}", pinnedKey);
            }

            key = pinnedKey;
        }
        else if (trusted is { } t)
        {
            try
            {
                key = t.Key;
            }
            catch (FormatException ex)
            {
                return ReceiptVerification.Failed(VerificationCheck.Trust, $"the trusted key cannot be read: {ex.Message}");
            }
        }
        else if (trustOnFirstUse)
        {
            // The key the gateway publishes for its log, as `exchange audit verify` trusts on first use;
            // never the key a receipt's checkpoint names.
            var published = (await client.Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken)
                .ConfigureAwait(false)).Checkpoint;
            try
            {
                key = NoteVerifierKey.Parse(published?.VerifierKey ?? "");
            }
            catch (FormatException ex)
            {
                return ReceiptVerification.Failed(VerificationCheck.Trust, $"the gateway publishes no usable verifier key: {ex.Message}");
            }

            firstUse = true;
        }
        else
        {
            return ReceiptVerification.Failed(VerificationCheck.Trust,
                "this log is not trusted yet, and trust on first use is off: pin the audit log's key");
        }

        var result = verify(key) with { KeyTrustedOnFirstUse = firstUse, NewLog = trusted is null };
        if (!result.Succeeded)
        {
            return result;
        }

        var checkpoint = result.Checkpoint!;
        if (trusted is { } previous)
        {
            CheckpointNote old;
            try
            {
                old = CheckpointNote.ParseVerified(previous.Note, key);
            }
            catch (FormatException ex)
            {
                return ReceiptVerification.Failed(VerificationCheck.Trust, $"the trusted checkpoint does not verify: {ex.Message}", key);
            }

            // A receipt may carry a checkpoint older than the trusted one (another download or an audit
            // verify moved it on meanwhile): then the receipt's must be a prefix of the trusted one.
            var problem = old.Size <= checkpoint.Size
                ? await CheckpointConsistency.ProblemAsync(client, old, checkpoint, cancellationToken).ConfigureAwait(false)
                : await CheckpointConsistency.ProblemAsync(client, checkpoint, old, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                problem += old.LogId.Length == 0 && checkpoint.LogId.Length > 0 ? AuditLogVerifier.WithoutId(old.Origin) : "";
                return ReceiptVerification.Failed(VerificationCheck.Consistency, problem, key) with { Checkpoint = checkpoint };
            }

            result = result with
            {
                Message = $"{result.Message}; consistent with the trusted checkpoint of size {old.Size}",
                PreviousTrustedSize = old.Size,
            };
            if (checkpoint.Size <= old.Size)
            {
                return result;
            }
        }

        if (store is null)
        {
            _remembered = TrustedLog.Replace(_remembered, TrustedLog.Of(key, receipt.Checkpoint.Note, DateTimeOffset.UtcNow));
        }
        else
        {
            store.Save(key, receipt.Checkpoint.Note);
        }

        return result;
    }
}
