using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Client.Audit;

/// <summary>
/// Checks a whole exchange log without trusting its operator: the checkpoint's signature against
/// a pinned key, its consistency with the last trusted checkpoint, and every leaf against the
/// signed root. On a mismatch it names the first index that does not belong to the signed tree,
/// using inclusion proofs to narrow down where the downloaded leaves and the tree part ways.
/// </summary>
public sealed class AuditLogVerifier(ExchangeClient client)
{
    private const int PageSize = 1000;

    /// <summary>
    /// Verifies the log. <paramref name="pinnedKey"/> is the verifier key to require; when null, the
    /// key stored with this log's trusted checkpoint is required; when this log was never trusted, the
    /// key the server publishes is trusted on first use (and stored). Logs are told apart by origin,
    /// key and log id (see <see cref="TrustedLog"/>), so another log behind the same address is a new
    /// log, not a rollback. On success the checkpoint becomes its log's trusted one in <paramref name="trusted"/>.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(NoteVerifierKey? pinnedKey, TrustedCheckpointStore? trusted,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var published = (await client.Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken)).Checkpoint;
        if (published is null)
        {
            return Failed(VerificationCheck.Incomplete, "The server returned no checkpoint.", pinnedKey);
        }

        IReadOnlyList<TrustedLog> logs;
        try
        {
            logs = trusted?.Logs() ?? [];
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            return Failed(VerificationCheck.Trust, $"The trusted checkpoints in '{trusted!.Path}' cannot be used: {ex.Message}", null);
        }

        CheckpointNote claimed;
        try
        {
            // Only to learn which log the checkpoint says it is of; its signature is checked below.
            claimed = CheckpointNote.ParseUnverified(published.Note);
        }
        catch (FormatException ex)
        {
            return Failed(VerificationCheck.Signature, $"The server's checkpoint cannot be read: {ex.Message}", pinnedKey);
        }

        NoteVerifierKey? publishedKey = null;
        try
        {
            publishedKey = NoteVerifierKey.Parse(published.VerifierKey);
        }
        catch (FormatException) when (pinnedKey is not null || TrustedLog.Find(logs, claimed.Origin, claimed.LogId, null) is not null)
        {
            // Not needed: the key is pinned, or stored with this log.
        }
        catch (FormatException ex)
        {
            return Failed(VerificationCheck.Trust, $"No usable verifier key: {ex.Message}", null);
        }

        var previous = TrustedLog.Find(logs, claimed.Origin, claimed.LogId, pinnedKey ?? publishedKey);
        var key = pinnedKey ?? previous?.Key ?? publishedKey!;
        if (previous is not null && previous.VerifierKey != key.Encoded)
        {
            return Failed(VerificationCheck.Trust, $"The trusted checkpoint of this log was signed by {previous.VerifierKey}, not by the pinned key {key.Encoded}.", key);
        }

        CheckpointNote checkpoint;
        try
        {
            checkpoint = CheckpointNote.ParseVerified(published.Note, key);
        }
        catch (FormatException ex)
        {
            return Failed(VerificationCheck.Signature, $"The server's checkpoint does not verify: {ex.Message}", key);
        }

        if (checkpoint.Origin != key.Name)
        {
            return Failed(VerificationCheck.Origin, $"The checkpoint is for log '{checkpoint.Origin}', but the key is named '{key.Name}'.", key, checkpoint);
        }

        if (published.LogId != checkpoint.LogId)
        {
            return Failed(VerificationCheck.Signature, $"The checkpoint's log_id '{published.LogId}' is not the log id its signed note names ('{checkpoint.LogId}').", key, checkpoint);
        }

        long? previousSize = null;
        if (previous is not null)
        {
            CheckpointNote old;
            try
            {
                old = CheckpointNote.ParseVerified(previous.Note, key);
            }
            catch (FormatException ex)
            {
                return Failed(VerificationCheck.Trust, $"The trusted checkpoint in '{trusted!.Path}' does not verify: {ex.Message}", key);
            }

            var problem = checkpoint.Size < old.Size
                ? $"Rollback: the log shrank from the trusted size {old.Size} to {checkpoint.Size}."
                : await CheckpointConsistency.ProblemAsync(client, old, checkpoint, cancellationToken);
            if (problem is not null)
            {
                var failed = Failed(VerificationCheck.Consistency, problem + (old.LogId.Length == 0 && checkpoint.LogId.Length > 0 ? WithoutId(old.Origin) : ""), key, checkpoint);
                return failed with { Inconsistent = true, TrustedBefore = previous };
            }

            previousSize = old.Size;
        }

        var leaves = new List<byte[]>();
        long afterCheckpoint = 0;
        await foreach (var e in client.EnumerateAuditEventsAsync(new ListAuditEventsRequest { PageSize = PageSize }, cancellationToken))
        {
            if (e.Index >= checkpoint.Size)
            {
                afterCheckpoint++;
                continue;
            }

            if (e.Index != leaves.Count)
            {
                return Failed(VerificationCheck.Sequence, e.Index > leaves.Count
                    ? $"Index {leaves.Count} is missing from the log: the next event listed is {e.Index} " +
                        "(unless the caller may not read the whole log: verify with an auditor's token)."
                    : $"Index {e.Index} is listed twice or out of order.", key, checkpoint, Math.Min(e.Index, leaves.Count));
            }

            var (_, problem) = DecodeLeaf(e);
            if (problem is not null)
            {
                return Failed(VerificationCheck.Leaf, $"Index {e.Index}: {problem}", key, checkpoint, e.Index);
            }

            leaves.Add(Rfc6962.LeafHash(e.Leaf.Span));
            if (leaves.Count % PageSize == 0)
            {
                progress?.Report(leaves.Count);
            }
        }

        progress?.Report(leaves.Count);

        if (leaves.Count < checkpoint.Size)
        {
            return Failed(VerificationCheck.Sequence, $"The checkpoint covers {checkpoint.Size} events but the log lists only {leaves.Count}: " +
                $"it was truncated at index {leaves.Count} (or the caller may not read the whole log: use an auditor's token).",
                key, checkpoint, leaves.Count);
        }

        if (!MerkleTreeBuilder.RootOf(leaves).AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            var bad = await LocateAsync(leaves, checkpoint, cancellationToken);
            return Failed(VerificationCheck.Root, bad is { } index
                ? $"Index {index} does not match the signed tree: the event was altered, replaced or moved."
                : "The events do not hash to the signed root, and no single index could be blamed.", key, checkpoint, bad);
        }

        trusted?.Save(key, published.Note);
        var consistency = previousSize is { } p ? $"; consistent with the previously trusted checkpoint of size {p}" : "";
        var logId = checkpoint.LogId.Length > 0 ? $", log id {checkpoint.LogId}" : "";
        return new AuditVerification
        {
            Succeeded = true,
            Message = $"Verified {leaves.Count} events against checkpoint {checkpoint.Origin} size {checkpoint.Size}{logId}, " +
                $"root {Convert.ToHexStringLower(checkpoint.RootHash)[..16]}…, signed by {key.Name}+{key.KeyId:x8}{consistency}.",
            Checkpoint = checkpoint,
            Key = key,
            EventsVerified = leaves.Count,
            EventsAfterCheckpoint = afterCheckpoint,
            PreviousTrustedSize = previousSize,
            NewLog = previous is null,
            TrustedBefore = previous,
            OtherLogsOfOrigin = previous is null ? [.. logs.Where(l => l.Origin == checkpoint.Origin)] : [],
        };
    }

    /// <summary>What to add to a consistency problem found against a checkpoint trusted before logs had ids.</summary>
    internal static string WithoutId(string origin) =>
        " The trusted checkpoint was stored before logs had ids, so it cannot tell this log from another one of the same origin and key: " +
        $"if the gateway now serves a new log, forget the old one (exchange audit trust forget {origin}) and verify again.";

    /// <summary>The record an event's leaf encodes, when the event shows exactly that record; else null and why not.</summary>
    internal static (AuditRecord? Record, string? Problem) DecodeLeaf(AuditEvent e)
    {
        AuditRecord record;
        try
        {
            record = AuditRecord.Parser.ParseFrom(e.Leaf);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return (null, "the leaf is not an encoded AuditRecord.");
        }

        var matches = Equals(record.Time, e.Time) && record.Actor == e.Actor && record.Action == e.Action &&
            record.Resource == e.Resource && record.Dataset == e.Dataset && record.Outcome == e.Outcome &&
            record.Subject == e.Subject && record.Details.SequenceEqual(e.Details);
        return matches ? (record, null) : (null, "the event's fields differ from what its leaf says.");
    }

    /// <summary>
    /// Finds the first leaf that is not part of the signed tree. The inclusion proof of a leaf that
    /// verifies vouches for the hash of every range to its right; the first of those ranges whose
    /// downloaded leaves hash differently holds the first bad leaf, so the search moves to its start.
    /// </summary>
    private async Task<long?> LocateAsync(List<byte[]> leaves, CheckpointNote checkpoint, CancellationToken cancellationToken)
    {
        long candidate = 0;
        while (true)
        {
            var proof = (await client.Audit.GetInclusionProofAsync(
                new GetInclusionProofRequest { Index = candidate, TreeSize = checkpoint.Size }, cancellationToken: cancellationToken))
                .Hashes.Select(h => h.ToByteArray()).ToList();
            if (!MerkleProofs.VerifyInclusion(candidate, checkpoint.Size, leaves[(int)candidate], proof, checkpoint.RootHash))
            {
                return candidate;
            }

            var ranges = MerkleProofRanges.Inclusion(candidate, checkpoint.Size);
            var next = ranges.Zip(proof)
                .Where(r => r.First.Start > candidate)
                .FirstOrDefault(r => !MerkleTreeBuilder.RootOf(leaves.Skip((int)r.First.Start).Take((int)(r.First.End - r.First.Start)))
                    .AsSpan().SequenceEqual(r.Second));
            if (next.Second is null)
            {
                return null;
            }

            candidate = next.First.Start;
        }
    }

    private static AuditVerification Failed(VerificationCheck check, string message, NoteVerifierKey? key, CheckpointNote? checkpoint = null,
        long? index = null) =>
        new() { Succeeded = false, FailedCheck = check, Message = message, Key = key, Checkpoint = checkpoint, FirstBadIndex = index };
}
