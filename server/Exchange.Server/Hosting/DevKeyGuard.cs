namespace Exchange.Server.Hosting;

/// <summary>
/// Refuses to run anywhere but Development (Production, Staging, any custom environment) on the
/// development keys that ship in certs-dev/: their private halves are public, so anyone could mint
/// tokens, forge checkpoints, impersonate the server or, with the dev CA as client CA, any
/// participant. A dev key is recognised by its folder or by its key material, however re-encoded.
/// Outside Development the key-encryption keys must be configured too: the one the gateway
/// generates when none is sits in the data directory, beside the data it protects.
/// </summary>
internal static class DevKeyGuard
{
    public static void ThrowIfDevKeysOutsideDevelopment(IHostEnvironment environment, ExchangeOptions options)
    {
        if (Problem(environment, options) is { } problem)
        {
            throw new StartupException(problem);
        }
    }

    /// <summary>Why <paramref name="options"/> may not be used in <paramref name="environment"/>, or null when they may.</summary>
    public static string? Problem(IHostEnvironment environment, ExchangeOptions options)
    {
        if (environment.IsDevelopment())
        {
            return null;
        }

        if (options.Auth.SigningKeyFiles.Count == 0 && string.IsNullOrWhiteSpace(options.Auth.Authority))
        {
            return "No token signing keys are configured. Set Exchange:Auth:Authority (OIDC) or Exchange:Auth:SigningKeyFiles; " +
                "for local development run with ASPNETCORE_ENVIRONMENT=Development to use certs-dev/.";
        }

        var dev = DevIdentities();
        var configured = options.Auth.SigningKeyFiles
            .SelectMany(entry => Directory.Exists(ConfigPaths.Resolve(entry))
                ? Directory.EnumerateFiles(ConfigPaths.Resolve(entry)).Prepend(entry)
                : [entry])
            .Select(path => ("Exchange:Auth:SigningKeyFiles", (string?)path))
            .Append(("Exchange:Tls:CertificateFile", options.Tls.CertificateFile))
            .Append(("Exchange:Tls:KeyFile", options.Tls.KeyFile))
            .Append(("Exchange:Tls:ClientCaFile", options.Tls.ClientCaFile))
            .Append(("Exchange:Audit:SigningKeyFile", options.Audit.SigningKeyFile))
            .Concat(options.Encryption.KeyFiles.Select(kek => ($"Exchange:Encryption:KeyFiles:{kek.Key}", (string?)kek.Value)));

        foreach (var (setting, path) in configured)
        {
            if (!string.IsNullOrWhiteSpace(path) && IsDev(ConfigPaths.Resolve(path), dev))
            {
                return $"'{path}' ({setting}) is a development key or certificate from certs-dev/ (by folder or key material) " +
                    $"and must not be used outside Development (this is {environment.EnvironmentName}). Configure keys of your own (see README, Configuration).";
            }
        }

        if (options.Encryption.KeyFiles.Count == 0)
        {
            return $"Outside Development (this is {environment.EnvironmentName}) Exchange:Encryption:KeyFiles:<id> must name key-encryption keys of your own, " +
                "kept apart from the data directory (e.g. `openssl rand -base64 32`): the key generated inside the data directory when none is configured " +
                "is a development convenience that sits beside the data it protects.";
        }

        return null;
    }

    /// <summary>
    /// Outside Development, tells whether a key file is one of certs-dev/ (by folder or key material),
    /// so a signing key put in place while running is refused just as one configured at start.
    /// </summary>
    public static Func<string, bool> IsDevKey(IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
        {
            return _ => false;
        }

        var dev = DevIdentities();
        return path => IsDev(path, dev);
    }

    private static bool IsDev(string path, HashSet<string> dev) =>
        path.Split(Path.DirectorySeparatorChar).Contains("certs-dev")
        || (File.Exists(path) && KeyMaterial.Identities(path).Overlaps(dev));

    /// <summary>The identities of every file that ships in certs-dev/ beside the binaries.</summary>
    private static HashSet<string> DevIdentities()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "certs-dev");
        return Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).SelectMany(KeyMaterial.Identities)]
            : [];
    }
}
