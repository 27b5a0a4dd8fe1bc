using System.Text.Json;

namespace Exchange.Client.Audit;

/// <summary>
/// A file holding the last checkpoint a verifier accepted and the key that signed it. Every
/// later checkpoint must be signed by the same key and be consistent with it, so a rolled-back
/// or forked log is reported instead of silently accepted.
/// </summary>
public sealed class TrustedCheckpointStore(string path)
{
    /// <summary>The file's path.</summary>
    public string Path { get; } = path;

    /// <summary>The stored verifier key and signed checkpoint note, or null when the file does not exist yet.</summary>
    public (NoteVerifierKey Key, string Note)? Load()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        var stored = JsonSerializer.Deserialize<Stored>(File.ReadAllText(Path))
            ?? throw new FormatException($"'{Path}' is not a trusted-checkpoint file.");
        return (NoteVerifierKey.Parse(stored.VerifierKey), stored.Note);
    }

    /// <summary>Replaces the stored checkpoint atomically (write, then rename).</summary>
    public void Save(NoteVerifierKey key, string note)
    {
        ArgumentNullException.ThrowIfNull(key);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, JsonSerializer.Serialize(new Stored(key.Encoded, note), Options));
        File.Move(temporary, Path, overwrite: true);
    }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    private sealed record Stored(string VerifierKey, string Note);
}
