using System.Security.Cryptography;
using Exchange.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// The token signing keys from Exchange:Auth:SigningKeyFiles, kept current without a restart:
/// each entry is a PEM file or a directory of them, and at most once per refresh interval the
/// ring looks at their contents (by hash, so a symlink swapped underneath or a copy with an old
/// timestamp is seen too). A key put in place is accepted from then on; a key whose file is
/// removed stops being accepted at once, whatever else is wrong in the folder. A file that does
/// not parse (say, half written) keeps its previous key, if it had one, until it does.
/// </summary>
internal sealed partial class SigningKeyRing
{
    private static readonly string[] KeyFilePatterns = ["*.pem", "*.pub", "*.crt"];

    private readonly IReadOnlyList<string> _entries;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly Func<string, bool> _refused;
    private readonly Lock _refreshing = new();
    private readonly ILogger<SigningKeyRing> _logger;
    private IReadOnlyList<SecurityKey> _keys;
    private Dictionary<string, (string Hash, SecurityKey Key)> _byFile;
    private long _checkedAtTicks;

    /// <summary>Loads the keys now, so a missing or malformed key stops the start with a clear message.</summary>
    public SigningKeyRing(IEnumerable<string> entries, TimeSpan refreshInterval, TimeProvider time, Func<string, bool> refused, ILogger<SigningKeyRing> logger)
    {
        _logger = logger;
        _entries = [.. entries.Select(ConfigPaths.Resolve)];
        _refreshInterval = refreshInterval;
        _time = time;
        _refused = refused;
        var files = Files();
        if (_entries.Count > 0 && files.Count == 0)
        {
            throw new StartupException($"Exchange:Auth:SigningKeyFiles names no key file that exists ({string.Join(", ", _entries)}).");
        }

        _byFile = files.ToDictionary(f => f, f => (Hash(f), SigningKeys.Load(f)), StringComparer.Ordinal);
        _keys = [.. _byFile.Values.Select(v => v.Key)];
        _checkedAtTicks = time.GetUtcNow().UtcTicks;
    }

    /// <summary>The keys in force now.</summary>
    public IReadOnlyList<SecurityKey> Keys()
    {
        if (_time.GetUtcNow().UtcTicks - Volatile.Read(ref _checkedAtTicks) >= _refreshInterval.Ticks && _refreshing.TryEnter())
        {
            try
            {
                Refresh();
            }
            finally
            {
                _refreshing.Exit();
            }
        }

        return Volatile.Read(ref _keys);
    }

    private void Refresh()
    {
        Volatile.Write(ref _checkedAtTicks, _time.GetUtcNow().UtcTicks);
        var next = new Dictionary<string, (string Hash, SecurityKey Key)>(StringComparer.Ordinal);
        var changed = false;
        foreach (var file in Files())
        {
            string hash;
            try
            {
                hash = Hash(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone or unreadable between listing and reading: treated as removed.
                changed = true;
                continue;
            }

            if (_byFile.TryGetValue(file, out var known) && known.Hash == hash)
            {
                next[file] = known;
                continue;
            }

            changed = true;
            if (_refused(file))
            {
                Report(new StartupException($"'{file}' is a development key from certs-dev/ (by folder or key material) and is not accepted outside Development."));
                continue;
            }

            try
            {
                next[file] = (hash, SigningKeys.Load(file));
            }
            catch (Exception ex) when (ex is StartupException or IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                Report(ex);
                if (known.Key is not null)
                {
                    next[file] = known;
                }
            }
        }

        if (!changed && next.Count == _byFile.Count)
        {
            return;
        }

        _byFile = next;
        Volatile.Write(ref _keys, [.. next.Values.Select(v => v.Key)]);
        LogReloaded(_logger, next.Count);
    }

    private void Report(Exception problem) => LogFileRefused(_logger, problem);

    private List<string> Files() =>
    [
        .. _entries.SelectMany(entry => Directory.Exists(entry)
                ? KeyFilePatterns.SelectMany(pattern => Directory.EnumerateFiles(entry, pattern))
                : File.Exists(entry) ? [entry] : [])
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal),
    ];

    private static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Token signing keys reloaded: {Count} in force")]
    private static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "A token signing key file was not taken; its previous key, if any, stays in force")]
    private static partial void LogFileRefused(ILogger logger, Exception exception);
}
