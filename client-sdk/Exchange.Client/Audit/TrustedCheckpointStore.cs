using System.Text.Json;
using Exchange.Transparency;

namespace Exchange.Client.Audit;

/// <summary>
/// A file holding, for every log a verifier trusts, the last checkpoint it accepted and the key that
/// signed it (see <see cref="TrustedLog"/>). Logs are told apart by identity (origin, key and log
/// id), not by the address that served them: a new log behind the same address is a new log, while
/// every later checkpoint of a trusted log must be signed by the same key and be consistent with it,
/// so a rolled-back or forked log is reported instead of silently accepted.
/// </summary>
/// <remarks>
/// The file is JSON: <c>{"version": 2, "logs": [{origin, logId, verifierKey, size, trustedTime, note}]}</c>.
/// The earlier format, one checkpoint <c>{"VerifierKey", "Note"}</c>, is read as one log without an id
/// and rewritten in the new format at the next save.
/// </remarks>
/// <param name="path">The file.</param>
/// <param name="legacyPath">
/// An earlier per-gateway file (one checkpoint, the old format), read as one more trusted log; the next
/// save takes it into <paramref name="path"/> and renames it to <c>*.migrated</c>.
/// </param>
public sealed class TrustedCheckpointStore(string path, string? legacyPath = null)
{
    private const int Version = 2;

    /// <summary>The file's path.</summary>
    public string Path { get; } = path;

    /// <summary>The earlier per-gateway file that is read too, until the next save takes it in.</summary>
    public string? LegacyPath { get; } = legacyPath;

    /// <summary>Every trusted log, oldest trusted first; empty when the file does not exist yet.</summary>
    /// <exception cref="FormatException">The file is not a trusted-checkpoint file.</exception>
    public IReadOnlyList<TrustedLog> Logs()
    {
        var logs = File.Exists(Path) ? Read(Path) : [];
        if (LegacyPath is not null && File.Exists(LegacyPath))
        {
            logs.AddRange(Read(LegacyPath).Where(l => !logs.Any(t => t.Note == l.Note)));
        }

        return logs;
    }

    /// <summary>
    /// The key and checkpoint of the most recently trusted log, or null when none is trusted yet: for
    /// a file that holds one log. <see cref="Logs"/> returns them all.
    /// </summary>
    public (NoteVerifierKey Key, string Note)? Load() =>
        Logs().OrderBy(l => l.TrustedTime).LastOrDefault() is { } log ? (log.Key, log.Note) : null;

    /// <summary>
    /// Makes <paramref name="note"/>, signed by <paramref name="key"/>, its log's trusted checkpoint
    /// (replacing that log's earlier one, see <see cref="TrustedLog.Replace"/>); other logs stay.
    /// The file is replaced atomically (write, then rename).
    /// </summary>
    public void Save(NoteVerifierKey key, string note)
    {
        var trusted = TrustedLog.Of(key, note, DateTimeOffset.UtcNow);
        using var exclusive = Lock();
        Write(TrustedLog.Replace(Logs(), trusted));
    }

    /// <summary>Forgets the logs <paramref name="what"/> names (see <see cref="TrustedLog.IsNamedBy"/>); returns them.</summary>
    public IReadOnlyList<TrustedLog> Forget(string what)
    {
        using var exclusive = Lock();
        var logs = Logs();
        var forgotten = logs.Where(l => l.IsNamedBy(what)).ToList();
        if (forgotten.Count > 0)
        {
            Write(logs.Except(forgotten).ToList());
        }

        return forgotten;
    }

    /// <summary>
    /// An exclusive lock on <c>{Path}.lock</c> while the file is read, changed and replaced, so that
    /// two commands saving checkpoints of different logs at once (a download and a verify) keep both.
    /// </summary>
    private FileStream Lock()
    {
        var file = Path + ".lock";
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    private void Write(IReadOnlyList<TrustedLog> logs)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, JsonSerializer.Serialize(new Stored(Version, logs), Options));
        File.Move(temporary, Path, overwrite: true);
        if (LegacyPath is not null && File.Exists(LegacyPath) && System.IO.Path.GetFullPath(LegacyPath) != System.IO.Path.GetFullPath(Path))
        {
            File.Move(LegacyPath, LegacyPath + ".migrated", overwrite: true);
        }
    }

    private static List<TrustedLog> Read(string file)
    {
        var text = File.ReadAllText(file);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("logs", out var logs) && logs.ValueKind == JsonValueKind.Array)
            {
                // Origin, id and size are read from the note itself; the copies are for people reading the file.
                return logs.EnumerateArray()
                    .Select(l => TrustedLog.Of(NoteVerifierKey.Parse(String(l, "verifierKey")), String(l, "note"),
                        l.TryGetProperty("trustedTime", out var time) && time.TryGetDateTimeOffset(out var at) ? at : File.GetLastWriteTimeUtc(file)))
                    .ToList();
            }

            // The format before logs had ids: the one checkpoint of the one gateway this file was for.
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("VerifierKey", out _) && root.TryGetProperty("Note", out _))
            {
                return [TrustedLog.Of(NoteVerifierKey.Parse(String(root, "VerifierKey")), String(root, "Note"), File.GetLastWriteTimeUtc(file))];
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"'{file}' is not a trusted-checkpoint file: {ex.Message}", ex);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"'{file}' holds a checkpoint that cannot be read: {ex.Message}", ex);
        }

        throw new FormatException($"'{file}' is not a trusted-checkpoint file.");
    }

    private static string String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"A trusted log has no '{name}'.");

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private sealed record Stored(int Version, IReadOnlyList<TrustedLog> Logs);
}
