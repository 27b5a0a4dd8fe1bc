using Exchange.Server.Hosting;
using Exchange.Transparency;
using NSec.Cryptography;

namespace Exchange.Server.Audit;

/// <summary>
/// Signs C2SP tlog-checkpoints with the log's Ed25519 key. The key name is the origin, and the
/// verifier key is published in the standard note form so any signed-note verifier can check it.
/// </summary>
internal sealed class CheckpointSigner : IDisposable
{
    private readonly Key _key;

    public CheckpointSigner(AuditOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            throw new StartupException("Exchange:Audit:SigningKeyFile must name the PEM Ed25519 key that signs audit checkpoints.");
        }

        var path = ConfigPaths.Resolve(options.SigningKeyFile);
        if (!File.Exists(path))
        {
            throw new StartupException($"Audit signing key file '{path}' (Exchange:Audit:SigningKeyFile) does not exist.");
        }

        try
        {
            _key = Key.Import(SignatureAlgorithm.Ed25519, File.ReadAllBytes(path), KeyBlobFormat.PkixPrivateKeyText);
        }
        catch (FormatException)
        {
            throw new StartupException($"'{path}' is not a PEM PKCS#8 Ed25519 private key.");
        }

        try
        {
            VerifierKey = NoteVerifierKey.FromPublicKey(options.Origin, _key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        }
        catch (FormatException ex)
        {
            throw new StartupException($"Exchange:Audit:Origin '{options.Origin}': {ex.Message}");
        }

        Origin = options.Origin;
    }

    public string Origin { get; }

    public NoteVerifierKey VerifierKey { get; }

    /// <summary>
    /// The id of the log this gateway serves (32 hex digits, generated once per log and kept with it
    /// in the database, so every replica of one exchange signs the same id and a new database is a
    /// new log even under the same origin and key). Set when storage starts, before anything is signed.
    /// </summary>
    public string LogId { get; private set; } = "";

    /// <summary>Sets <see cref="LogId"/> from the database (<see cref="Storage.StorageInitializer"/>).</summary>
    public void UseLogId(string logId)
    {
        if (!CheckpointNote.IsLogId(logId))
        {
            throw new ArgumentException("A log id is 32 lowercase hex digits.", nameof(logId));
        }

        LogId = logId;
    }

    /// <summary>The signed note for a tree of <paramref name="size"/> leaves with <paramref name="root"/>.</summary>
    public string Sign(long size, byte[] root)
    {
        if (LogId.Length == 0)
        {
            throw new InvalidOperationException("The log id is not loaded yet: storage has not started.");
        }

        var body = new CheckpointNote(Origin, size, root, LogId).Body();
        var signature = SignatureAlgorithm.Ed25519.Sign(_key, System.Text.Encoding.UTF8.GetBytes(body));
        return body + "\n" + SignedNote.SignatureLine(VerifierKey.Name, VerifierKey.KeyId, signature);
    }

    public void Dispose() => _key.Dispose();
}
