using System.Text.Json;
using Exchange.Client.Transfers;
using Exchange.V1;

namespace Exchange.Client.Audit;

/// <summary>
/// What an <see cref="ExchangeClient"/> trusts about its gateway's log: the verifier key (pinned;
/// else the one stored with the trusted checkpoint; else, when allowed, the key the gateway
/// publishes, on first use) and the last checkpoint it accepted, which every later receipt's
/// checkpoint must be consistent with. Accepted checkpoints that are newer become the trusted one.
/// </summary>
internal sealed class LogTrust(ExchangeClient client, NoteVerifierKey? pinnedKey, TrustedCheckpointStore? store, bool trustOnFirstUse)
    : IDisposable
{
    // One check at a time, so that concurrent downloads move the trusted checkpoint forward in order.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // The trusted checkpoint when there is no store to keep it in.
    private (NoteVerifierKey Key, string Note)? _remembered;

    public async Task<ReceiptVerification> VerifyAsync(TransferReceipt receipt, ExpectedTransfer expected, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await VerifyOneAsync(receipt, expected, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<ReceiptVerification> VerifyOneAsync(TransferReceipt receipt, ExpectedTransfer expected, CancellationToken cancellationToken)
    {
        (NoteVerifierKey Key, string Note)? trusted;
        try
        {
            trusted = store is null ? _remembered : store.Load();
        }
        catch (Exception ex) when (ex is FormatException or JsonException or IOException or UnauthorizedAccessException)
        {
            return ReceiptVerification.Failed(ReceiptCheck.Trust, $"the trusted checkpoint in '{store!.Path}' cannot be used: {ex.Message}");
        }

        NoteVerifierKey key;
        var firstUse = false;
        if (pinnedKey is not null)
        {
            if (trusted is { } t && t.Key.Encoded != pinnedKey.Encoded)
            {
                return ReceiptVerification.Failed(ReceiptCheck.Trust,
                    $"the trusted checkpoint was signed by {t.Key.Encoded}, not by the pinned key {pinnedKey.Encoded}", pinnedKey);
            }

            key = pinnedKey;
        }
        else if (trusted is { } t)
        {
            key = t.Key;
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
                return ReceiptVerification.Failed(ReceiptCheck.Trust, $"the gateway publishes no usable verifier key: {ex.Message}");
            }

            firstUse = true;
        }
        else
        {
            return ReceiptVerification.Failed(ReceiptCheck.Trust,
                "no verifier key is trusted yet, and trust on first use is off: pin the audit log's key");
        }

        var result = ReceiptVerifier.Verify(receipt, expected, key) with { KeyTrustedOnFirstUse = firstUse };
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
                return ReceiptVerification.Failed(ReceiptCheck.Trust, $"the trusted checkpoint does not verify: {ex.Message}", key);
            }

            // A receipt may carry a checkpoint older than the trusted one (another download or an audit
            // verify moved it on meanwhile): then the receipt's must be a prefix of the trusted one.
            var problem = old.Size <= checkpoint.Size
                ? await CheckpointConsistency.ProblemAsync(client, old, checkpoint, cancellationToken).ConfigureAwait(false)
                : await CheckpointConsistency.ProblemAsync(client, checkpoint, old, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return ReceiptVerification.Failed(ReceiptCheck.Consistency, problem, key) with { Checkpoint = checkpoint };
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
            _remembered = (key, receipt.Checkpoint.Note);
        }
        else
        {
            store.Save(key, receipt.Checkpoint.Note);
        }

        return result;
    }
}
