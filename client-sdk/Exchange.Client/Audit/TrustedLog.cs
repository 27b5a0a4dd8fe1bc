using System.Text.Json.Serialization;
using Exchange.Transparency;

namespace Exchange.Client.Audit;

/// <summary>
/// One log a verifier trusts, known by its identity (origin, verifier key and log id), and the last
/// checkpoint accepted from it. A log never seen before is a new log, whatever address served it;
/// a later checkpoint of the same log must be consistent with this one.
/// </summary>
/// <param name="Origin">The log's origin (its checkpoints' first line).</param>
/// <param name="VerifierKey">The note verifier key that signs its checkpoints.</param>
/// <param name="LogId">The id its checkpoints name (<c>log-id</c>); empty for a checkpoint stored before logs had ids.</param>
/// <param name="Size">The size of the trusted checkpoint.</param>
/// <param name="TrustedTime">When that checkpoint was accepted.</param>
/// <param name="Note">The trusted checkpoint, as signed.</param>
public sealed record TrustedLog(string Origin, string VerifierKey, string LogId, long Size, DateTimeOffset TrustedTime, string Note)
{
    /// <summary>The parsed <see cref="VerifierKey"/>.</summary>
    [JsonIgnore]
    public NoteVerifierKey Key => NoteVerifierKey.Parse(VerifierKey);

    /// <summary>The trusted log for <paramref name="note"/>, signed by <paramref name="key"/> (the note is not verified here).</summary>
    public static TrustedLog Of(NoteVerifierKey key, string note, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(key);
        var checkpoint = CheckpointNote.ParseUnverified(note);
        return new TrustedLog(checkpoint.Origin, key.Encoded, checkpoint.LogId, checkpoint.Size, time, note);
    }

    /// <summary>
    /// The trusted log that a checkpoint of <paramref name="origin"/> naming <paramref name="logId"/> must
    /// be consistent with: the one with that origin and id (preferring <paramref name="key"/>'s); else,
    /// for a checkpoint that names an id, the one of that origin and key stored before logs had ids
    /// (the same log, before its gateway named it, when the checkpoint is consistent with it).
    /// Null when this log was never trusted.
    /// </summary>
    public static TrustedLog? Find(IEnumerable<TrustedLog> logs, string origin, string logId, NoteVerifierKey? key)
    {
        ArgumentNullException.ThrowIfNull(logs);
        var list = logs.ToList();
        var same = list.Where(l => l.Origin == origin && l.LogId == logId)
            .OrderBy(l => key is not null && l.VerifierKey == key.Encoded ? 0 : 1)
            .ThenByDescending(l => l.TrustedTime)
            .FirstOrDefault();
        if (same is not null || logId.Length == 0)
        {
            return same;
        }

        return list.Where(l => l.Origin == origin && l.LogId.Length == 0 && (key is null || l.VerifierKey == key.Encoded))
            .OrderByDescending(l => l.TrustedTime)
            .FirstOrDefault();
    }

    /// <summary>
    /// <paramref name="logs"/> with <paramref name="trusted"/> as its log's trusted checkpoint: it replaces
    /// the entry of the same identity, and an entry of the same origin and key without an id (which it
    /// was found consistent with, see <see cref="Find"/>).
    /// </summary>
    public static List<TrustedLog> Replace(IEnumerable<TrustedLog> logs, TrustedLog trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        return
        [
            .. logs.Where(l => !(l.Origin == trusted.Origin && l.VerifierKey == trusted.VerifierKey &&
                (l.LogId == trusted.LogId || l.LogId.Length == 0))),
            trusted,
        ];
    }

    /// <summary>
    /// Whether <paramref name="what"/> names this log for <c>exchange audit trust forget</c>: its log id,
    /// the first 8 or more digits of it, or its origin.
    /// </summary>
    public bool IsNamedBy(string what) =>
        what.Length > 0 && (Origin == what || LogId == what || (what.Length >= 8 && LogId.StartsWith(what, StringComparison.Ordinal)));
}
