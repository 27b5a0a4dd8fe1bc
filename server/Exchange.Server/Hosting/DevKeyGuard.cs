using System.Security.Cryptography;

namespace Exchange.Server.Hosting;

/// <summary>
/// Refuses to run a Production host on the development keys that ship in certs-dev/:
/// their private halves are public, so anyone could mint tokens or forge checkpoints.
/// </summary>
internal static class DevKeyGuard
{
    public static void ThrowIfDevKeysInProduction(IHostEnvironment environment, ExchangeOptions options)
    {
        if (!environment.IsProduction())
        {
            return;
        }

        if (options.Auth.SigningKeyFiles.Count == 0 && string.IsNullOrWhiteSpace(options.Auth.Authority))
        {
            throw new StartupException(
                "No token signing keys are configured. Set Exchange:Auth:Authority (OIDC) or Exchange:Auth:SigningKeyFiles; " +
                "for local development run with ASPNETCORE_ENVIRONMENT=Development to use certs-dev/.");
        }

        var devFingerprints = DevFingerprints();
        var configured = options.Auth.SigningKeyFiles
            .SelectMany(entry => Directory.Exists(ConfigPaths.Resolve(entry))
                ? Directory.EnumerateFiles(ConfigPaths.Resolve(entry)).Prepend(entry)
                : [entry])
            .Append(options.Tls.CertificateFile)
            .Append(options.Tls.KeyFile)
            .Append(options.Audit.SigningKeyFile)
            .OfType<string>()
            .Where(p => !string.IsNullOrWhiteSpace(p));

        foreach (var path in configured)
        {
            var resolved = ConfigPaths.Resolve(path);
            var isDevFolder = resolved.Split(Path.DirectorySeparatorChar).Contains("certs-dev");
            if (isDevFolder || (File.Exists(resolved) && devFingerprints.Contains(Fingerprint(resolved))))
            {
                throw new StartupException(
                    $"'{path}' is a development key from certs-dev/ and must not be used in Production. " +
                    "Configure keys of your own (see README, Configuration).");
            }
        }
    }

    /// <summary>
    /// In Production, tells whether a key file is one of certs-dev/ (by folder or content), so a
    /// signing key put in place while running is refused just as one configured at start.
    /// </summary>
    public static Func<string, bool> IsDevKey(IHostEnvironment environment)
    {
        if (!environment.IsProduction())
        {
            return _ => false;
        }

        var devFingerprints = DevFingerprints();
        return path => path.Split(Path.DirectorySeparatorChar).Contains("certs-dev")
            || (File.Exists(path) && devFingerprints.Contains(Fingerprint(path)));
    }

    private static HashSet<string> DevFingerprints()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "certs-dev");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(Fingerprint).ToHashSet();
    }

    private static string Fingerprint(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
}
