using System.Security.Cryptography;
using System.Text;
using Exchange.Server.Hosting;

namespace Exchange.Server.Transfers;

/// <summary>
/// Key-encryption keys. Each revision's bytes are encrypted with a data key of their own; only
/// the data key, wrapped (AES-GCM, bound to the revision name) by a key-encryption key, is
/// stored. Rotating the key-encryption key rewraps data keys; the data is never rewritten.
/// </summary>
internal sealed class KeyRing
{
    public const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const string LocalKeyId = "local";

    private readonly Dictionary<string, byte[]> _keys;

    private KeyRing(Dictionary<string, byte[]> keys, string primaryId)
    {
        _keys = keys;
        PrimaryId = primaryId;
    }

    /// <summary>The key that wraps new data keys.</summary>
    public string PrimaryId { get; }

    /// <summary>
    /// The configured keys; with none configured, one generated once in the data directory
    /// (<c>keys/kek-local.key</c>), so the embedded default encrypts with no setup. The settings
    /// are checked before (<see cref="Problems"/>); what the files hold is checked here.
    /// </summary>
    public static KeyRing Load(KeyRingOptions options, string dataDirectory, bool sharedDatabase)
    {
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var files = new Dictionary<string, string>(options.KeyFiles, StringComparer.Ordinal);
        if (files.Count == 0 && !sharedDatabase)
        {
            files[LocalKeyId] = LocalKeyFile(dataDirectory);
        }

        foreach (var (id, file) in files)
        {
            var path = ConfigPaths.Resolve(file);
            byte[] key;
            try
            {
                key = Convert.FromBase64String(File.ReadAllText(path).Trim());
            }
            catch (FormatException)
            {
                throw new StartupException($"Key-encryption key file '{path}' must hold {KeySize} bytes in base64.");
            }

            if (key.Length != KeySize)
            {
                throw new StartupException($"Key-encryption key file '{path}' must hold {KeySize} bytes in base64, not {key.Length}.");
            }

            keys[id] = key;
        }

        return new KeyRing(keys, options.PrimaryKeyId ?? keys.Keys.Single());
    }

    /// <summary>
    /// What cannot work in Exchange:Encryption: a shared database refuses the generated local key
    /// (each replica would generate a key of its own, and none could read what the others stored),
    /// every key file must exist, and the primary key must be one of them.
    /// </summary>
    public static IEnumerable<string> Problems(KeyRingOptions options, bool sharedDatabase)
    {
        if (options.KeyFiles.Count == 0 && sharedDatabase)
        {
            yield return "A shared database (Exchange:Database:Kind=postgres) needs key-encryption keys that every replica has: " +
                "set Exchange:Encryption:KeyFiles:<id> to a file of 32 random bytes in base64 (e.g. `openssl rand -base64 32`).";
            yield break;
        }

        foreach (var (id, file) in options.KeyFiles)
        {
            var path = ConfigPaths.Resolve(file);
            if (!File.Exists(path))
            {
                yield return $"Key-encryption key '{id}' file '{path}' (Exchange:Encryption:KeyFiles) does not exist.";
            }
        }

        var ids = options.KeyFiles.Count == 0 ? [LocalKeyId] : options.KeyFiles.Keys.ToList();
        if (options.PrimaryKeyId is null && ids.Count > 1)
        {
            yield return "Exchange:Encryption:PrimaryKeyId must name the key that wraps new data keys.";
        }
        else if (options.PrimaryKeyId is { } primary && !ids.Contains(primary, StringComparer.Ordinal))
        {
            yield return $"Exchange:Encryption:PrimaryKeyId '{primary}' is not among Exchange:Encryption:KeyFiles.";
        }
    }

    public static byte[] NewDataKey() => RandomNumberGenerator.GetBytes(KeySize);

    /// <summary>Wraps a data key with the primary key, bound to <paramref name="revision"/>.</summary>
    public byte[] Wrap(ReadOnlySpan<byte> dataKey, string revision)
    {
        var wrapped = new byte[NonceSize + KeySize + TagSize];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceSize));
        using var aes = new AesGcm(_keys[PrimaryId], TagSize);
        aes.Encrypt(wrapped.AsSpan(0, NonceSize), dataKey, wrapped.AsSpan(NonceSize, KeySize), wrapped.AsSpan(NonceSize + KeySize),
            Encoding.UTF8.GetBytes(revision));
        return wrapped;
    }

    /// <summary>The data key of <paramref name="revision"/>; a key that is missing or does not authenticate throws.</summary>
    public byte[] Unwrap(ReadOnlySpan<byte> wrapped, string kekId, string revision)
    {
        if (!_keys.TryGetValue(kekId, out var kek))
        {
            throw new CryptographicException($"The key-encryption key '{kekId}' that wrapped {revision}'s data key is not configured.");
        }

        if (wrapped.Length != NonceSize + KeySize + TagSize)
        {
            throw new CryptographicException($"The wrapped data key of {revision} is damaged.");
        }

        var dataKey = new byte[KeySize];
        using var aes = new AesGcm(kek, TagSize);
        aes.Decrypt(wrapped[..NonceSize], wrapped.Slice(NonceSize, KeySize), wrapped[(NonceSize + KeySize)..], dataKey,
            Encoding.UTF8.GetBytes(revision));
        return dataKey;
    }

    private static string LocalKeyFile(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "keys", "kek-local.key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Readable by the gateway's user only, from the moment it exists.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var file = new FileStream(temporary, options))
            {
                file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize))));
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path);
        }

        return path;
    }
}
