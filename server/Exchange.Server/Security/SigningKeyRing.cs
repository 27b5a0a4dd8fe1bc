using Exchange.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// The token signing keys from Exchange:Auth:SigningKeyFiles, kept current without a restart:
/// each entry is a PEM file or a directory of them, and at most once per refresh interval the
/// ring looks whether any changed. A key put in place is accepted from then on; a key whose file
/// is removed stops being accepted. A file that does not parse (say, half written) keeps the
/// previous keys in force until it does.
/// </summary>
internal sealed partial class SigningKeyRing
{
    private static readonly string[] KeyFilePatterns = ["*.pem", "*.pub", "*.crt"];

    private readonly IReadOnlyList<string> _entries;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly Func<string, bool> _refused;
    private readonly Lock _refreshing = new();
    private ILogger? _logger;
    private IReadOnlyList<SecurityKey> _keys;
    private string _fingerprint;
    private long _checkedAtTicks;

    /// <summary>Loads the keys now, so a missing or malformed key stops the start with a clear message.</summary>
    public SigningKeyRing(IEnumerable<string> entries, TimeSpan refreshInterval, TimeProvider time, Func<string, bool> refused)
    {
        _entries = [.. entries.Select(ConfigPaths.Resolve)];
        _refreshInterval = refreshInterval;
        _time = time;
        _refused = refused;
        var files = Files();
        if (_entries.Count > 0 && files.Count == 0)
        {
            throw new StartupException($"Exchange:Auth:SigningKeyFiles names no key file that exists ({string.Join(", ", _entries)}).");
        }

        _keys = [.. files.Select(SigningKeys.Load)];
        _fingerprint = Fingerprint(files);
        _checkedAtTicks = time.GetUtcNow().UtcTicks;
    }

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>Where refresh problems are reported; set once the host has a logger.</summary>
    public void UseLogger(ILogger logger) => _logger = logger;

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
        var files = Files();
        var fingerprint = Fingerprint(files);
        if (fingerprint == _fingerprint)
        {
            return;
        }

        try
        {
            if (files.FirstOrDefault(_refused) is { } refused)
            {
                throw new StartupException($"'{refused}' is a development key from certs-dev/ and is not accepted in Production.");
            }

            var keys = files.Select(SigningKeys.Load).ToList();
            Volatile.Write(ref _keys, keys);
            _fingerprint = fingerprint;
            if (_logger is not null)
            {
                LogReloaded(_logger, keys.Count);
            }
        }
        catch (Exception ex) when (ex is StartupException or IOException or UnauthorizedAccessException)
        {
            if (_logger is not null)
            {
                LogReloadFailed(_logger, ex);
            }
        }
    }

    private List<string> Files() =>
    [
        .. _entries.SelectMany(entry => Directory.Exists(entry)
                ? KeyFilePatterns.SelectMany(pattern => Directory.EnumerateFiles(entry, pattern))
                : File.Exists(entry) ? [entry] : [])
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal),
    ];

    private static string Fingerprint(List<string> files) =>
        string.Join('\n', files.Select(f =>
        {
            var info = new FileInfo(f);
            return info.Exists ? $"{f}|{info.Length}|{info.LastWriteTimeUtc.Ticks}" : f;
        }));

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Token signing keys reloaded: {Count} in force")]
    private static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "Token signing keys changed but could not be read; the previous keys stay in force")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
