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

    /// <param name="options">The signing key and origin, checked before anything starts (<see cref="Problems"/>).</param>
    /// <param name="logId">The id of the log this gateway serves, from the database (<see cref="Storage.StorageInitializer"/>).</param>
    public CheckpointSigner(AuditOptions options, string logId)
    {
        if (!CheckpointNote.IsLogId(logId))
        {
            throw new ArgumentException("A log id is 32 lowercase hex digits.", nameof(logId));
        }

        (_key, VerifierKey) = Load(options);
        Origin = options.Origin;
        LogId = logId;
    }

    public string Origin { get; }

    public NoteVerifierKey VerifierKey { get; }

    /// <summary>
    /// The id of the log this gateway serves (32 hex digits, generated once per log and kept with it
    /// in the database, so every replica of one exchange signs the same id and a new database is a
    /// new log even under the same origin and key).
    /// </summary>
    public string LogId { get; }

    /// <summary>What keeps the audit settings from working (a missing or malformed key, a bad origin), or nothing.</summary>
    public static IEnumerable<string> Problems(AuditOptions options)
    {
        try
        {
            Load(options).Key.Dispose();
            return [];
        }
        catch (StartupException ex)
        {
            return [ex.Message];
        }
    }

    private static (Key Key, NoteVerifierKey VerifierKey) Load(AuditOptions options)
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

        Key key;
        try
        {
            key = Key.Import(SignatureAlgorithm.Ed25519, File.ReadAllBytes(path), KeyBlobFormat.PkixPrivateKeyText);
        }
        catch (FormatException)
        {
            throw new StartupException($"'{path}' is not a PEM PKCS#8 Ed25519 private key.");
        }

        try
        {
            return (key, NoteVerifierKey.FromPublicKey(options.Origin, key.PublicKey.Export(KeyBlobFormat.RawPublicKey)));
        }
        catch (FormatException ex)
        {
            key.Dispose();
            throw new StartupException($"Exchange:Audit:Origin '{options.Origin}': {ex.Message}");
        }
    }

    /// <summary>The signed note for a tree of <paramref name="size"/> leaves with <paramref name="root"/>.</summary>
    public string Sign(long size, byte[] root)
    {
        var body = new CheckpointNote(Origin, size, root, LogId).Body();
        var signature = SignatureAlgorithm.Ed25519.Sign(_key, System.Text.Encoding.UTF8.GetBytes(body));
        return body + "\n" + SignedNote.SignatureLine(VerifierKey.Name, VerifierKey.KeyId, signature);
    }

    public void Dispose() => _key.Dispose();
}
