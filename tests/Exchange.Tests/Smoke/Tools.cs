namespace Exchange.Tests.Smoke;

/// <summary>Finds outside programs the smoke tests drive.</summary>
internal static class Tools
{
    /// <summary>
    /// When set to 1 (as .ci/run does), a missing outside program fails the test instead of
    /// skipping it, so CI cannot pass by skipping.
    /// </summary>
    public static bool Required => Environment.GetEnvironmentVariable("EXCHANGE_REQUIRE_BACKENDS") == "1";

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Exchange.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test binaries.");
    }

    /// <summary>The gateway's build output of the same configuration as the tests (Debug or Release).</summary>
    public static string ServerBinaries()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        return Path.Combine(RepositoryRoot(), "server", "Exchange.Server", "bin", configuration, "net10.0");
    }

    /// <summary>buf from $BUF, tools/node_modules (npm ci --prefix tools), or PATH.</summary>
    public static string? Buf()
    {
        var candidates = new List<string?>
        {
            Environment.GetEnvironmentVariable("BUF"),
            Path.Combine(RepositoryRoot(), "tools", "node_modules", ".bin", "buf"),
        };
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(p => Path.Combine(p, "buf")));
        return candidates.FirstOrDefault(File.Exists);
    }
}
