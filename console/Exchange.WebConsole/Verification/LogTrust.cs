using System.Text.Json;
using Exchange.Transparency;
using Exchange.V1;
using Exchange.WebConsole.Services;
using Grpc.Core;
using Microsoft.JSInterop;

namespace Exchange.WebConsole.Verification;

/// <summary>
/// What this tab trusts about the log: the verifier key the user pinned (entered once, kept in
/// sessionStorage for the tab) and the checkpoints it verified with it, each consistent with the
/// one before. Every event shown is checked against the newest of them, here in the browser:
/// the gateway's word counts for nothing that is not signed by the pinned key or proven from it.
/// </summary>
internal sealed class LogTrust(IJSRuntime js, Gateway gateway)
{
    private const string KeyKey = "exchange.verifierKey";
    private const string HistoryKey = "exchange.checkpoints";
    private const int MaxHistory = 50;
    private readonly List<TrustedCheckpoint> _history = [];
    private bool _restored;

    public event Action? Changed;

    /// <summary>The pinned verifier key.</summary>
    public NoteVerifierKey? Key { get; private set; }

    /// <summary>The newest verified checkpoint.</summary>
    public CheckpointNote? Latest { get; private set; }

    /// <summary>The checkpoints verified in this tab, oldest first.</summary>
    public IReadOnlyList<TrustedCheckpoint> History => _history;

    /// <summary>What failed about the checkpoints (signature, rollback, fork), if anything: the page shows it in red.</summary>
    public string? Problem { get; private set; }

    public async Task RestoreAsync()
    {
        if (_restored)
        {
            return;
        }

        _restored = true;
        if (await js.InvokeAsync<string?>("sessionStorage.getItem", KeyKey) is { } text)
        {
            try
            {
                Key = NoteVerifierKey.Parse(text);
            }
            catch (FormatException)
            {
                await js.InvokeVoidAsync("sessionStorage.removeItem", KeyKey);
            }
        }

        if (Key is not null && await js.InvokeAsync<string?>("sessionStorage.getItem", HistoryKey) is { } json)
        {
            _history.AddRange(JsonSerializer.Deserialize<List<TrustedCheckpoint>>(json) ?? []);
            if (_history.Count > 0)
            {
                var last = _history[^1];
                Latest = new CheckpointNote(Key.Name, last.Size, Convert.FromBase64String(last.RootHash), last.LogId);
            }
        }
    }

    /// <summary>Pins <paramref name="text"/> as the log's verifier key for this tab; null, or why it is not a key.</summary>
    public async Task<string?> PinAsync(string text)
    {
        try
        {
            Key = NoteVerifierKey.Parse(text);
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }

        _history.Clear();
        Latest = null;
        Problem = null;
        await js.InvokeVoidAsync("sessionStorage.setItem", KeyKey, Key.Encoded);
        await js.InvokeVoidAsync("sessionStorage.removeItem", HistoryKey);
        Changed?.Invoke();
        return null;
    }

    public async Task UnpinAsync()
    {
        Key = null;
        Latest = null;
        Problem = null;
        _history.Clear();
        await js.InvokeVoidAsync("sessionStorage.removeItem", KeyKey);
        await js.InvokeVoidAsync("sessionStorage.removeItem", HistoryKey);
        Changed?.Invoke();
    }

    /// <summary>
    /// Fetches the newest checkpoint and trusts it when it is signed by the pinned key and
    /// consistent with the newest trusted one (a consistency proof checked here).
    /// </summary>
    public async Task RefreshAsync()
    {
        if (Key is null)
        {
            return;
        }

        var presented = (await gateway.Audit.GetCheckpointAsync(new GetCheckpointRequest())).Checkpoint;
        CheckpointNote note;
        try
        {
            note = CheckpointNote.ParseVerified(presented.Note, Key);
        }
        catch (FormatException ex)
        {
            Fail($"The gateway's checkpoint does not verify with the pinned key: {ex.Message}");
            return;
        }

        if (note.Origin != Key.Name || presented.Size != note.Size || !presented.RootHash.Span.SequenceEqual(note.RootHash))
        {
            Fail($"The checkpoint's fields differ from its signed note (origin '{note.Origin}', size {note.Size}).");
            return;
        }

        string consistency;
        if (Latest is null)
        {
            consistency = "first checkpoint seen in this session";
        }
        else if (note.Size < Latest.Size)
        {
            Fail($"Rollback: the log shrank from {Latest.Size} to {note.Size} events.");
            return;
        }
        else if (Latest.LogId.Length > 0 && note.LogId != Latest.LogId)
        {
            Fail($"The gateway now signs another log (id {note.LogId}, was {Latest.LogId}).");
            return;
        }
        else if (note.Size == Latest.Size)
        {
            if (!note.RootHash.AsSpan().SequenceEqual(Latest.RootHash))
            {
                Fail($"Fork: two different signed roots for size {note.Size}.");
            }

            return;
        }
        else
        {
            var proof = (await gateway.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest
            {
                FirstTreeSize = Latest.Size,
                SecondTreeSize = note.Size,
            })).Hashes.Select(h => h.ToByteArray()).ToList();
            if (!MerkleProofs.VerifyConsistency(Latest.Size, note.Size, proof, Latest.RootHash, note.RootHash))
            {
                Fail($"Fork: the checkpoint of size {note.Size} is not consistent with the trusted one of size {Latest.Size}.");
                return;
            }

            consistency = $"consistent with size {Latest.Size} ({proof.Count} hashes)";
        }

        Latest = note;
        _history.Add(new TrustedCheckpoint(note.Size, Convert.ToBase64String(note.RootHash), note.LogId, consistency, DateTimeOffset.UtcNow));
        if (_history.Count > MaxHistory)
        {
            _history.RemoveRange(0, _history.Count - MaxHistory);
        }

        await js.InvokeVoidAsync("sessionStorage.setItem", HistoryKey, JsonSerializer.Serialize(_history));
        Changed?.Invoke();
    }

    /// <summary>Checks each event: its leaf against its fields, and its inclusion in the newest trusted checkpoint.</summary>
    public async Task<IReadOnlyList<EventVerdict>> VerifyAsync(IReadOnlyList<AuditEvent> events)
    {
        if (Key is null || events.Count == 0)
        {
            return [];
        }

        if (Latest is null || events.Max(e => e.Index) >= Latest.Size)
        {
            await RefreshAsync();
        }

        var checkpoint = Latest;
        var verdicts = new EventVerdict[events.Count];
        // A few proofs at a time: they are small, and the gateway limits calls per participant.
        using var gate = new SemaphoreSlim(6);
        await Task.WhenAll(events.Select(async (e, i) =>
        {
            await gate.WaitAsync();
            try
            {
                verdicts[i] = await VerifyOneAsync(e, checkpoint);
            }
            finally
            {
                gate.Release();
            }
        }));
        return verdicts;
    }

    private async Task<EventVerdict> VerifyOneAsync(AuditEvent e, CheckpointNote? checkpoint)
    {
        var (_, problem) = LeafCheck.Decode(e);
        if (problem is not null)
        {
            return new EventVerdict(e.Index, VerdictState.Failed, $"Event {e.Index}: {problem}.");
        }

        if (checkpoint is null || e.Index >= checkpoint.Size)
        {
            return new EventVerdict(e.Index, VerdictState.NotYetSigned, $"Event {e.Index} is newer than the newest signed checkpoint; refresh to check it.");
        }

        List<byte[]> proof;
        try
        {
            proof = (await gateway.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = e.Index, TreeSize = checkpoint.Size }))
                .Hashes.Select(h => h.ToByteArray()).ToList();
        }
        catch (RpcException ex)
        {
            return new EventVerdict(e.Index, VerdictState.Failed, $"Event {e.Index}: the gateway gave no inclusion proof ({ex.Status.StatusCode}).");
        }

        return MerkleProofs.VerifyInclusion(e.Index, checkpoint.Size, Rfc6962.LeafHash(e.Leaf.Span), proof, checkpoint.RootHash)
            ? new EventVerdict(e.Index, VerdictState.Verified,
                $"Event {e.Index} is in the checkpoint of size {checkpoint.Size} signed by {Key!.Name}+{Key.KeyId:x8}.", proof.Count, checkpoint.Size)
            : new EventVerdict(e.Index, VerdictState.Failed,
                $"Event {e.Index} does not verify: its leaf is not in the signed tree of size {checkpoint.Size}.", proof.Count, checkpoint.Size);
    }

    private void Fail(string problem)
    {
        Problem = problem;
        Changed?.Invoke();
    }
}
