using System.Diagnostics;

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

    /// <summary>
    /// Starts the real gateway binary in <paramref name="environment"/> with <paramref name="args"/>
    /// and waits for it to exit: for configurations it must refuse before listening.
    /// </summary>
    public static async Task<(int ExitCode, string Error)> RunServerToExitAsync(string environment, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ServerBinaries(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["Exchange.Server.dll", "--urls", "https://127.0.0.1:0", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The gateway did not exit within 60 s: {await output}");
        }

        // Both streams: a log line with a stack trace on stdout is as much noise as one on stderr.
        return (process.ExitCode, await error + await output);
    }

    /// <summary>
    /// Once this test process has ended, however it ends, runs <paramref name="file"/> (which stops
    /// a server) and then, a second later so that the server is gone, deletes
    /// <paramref name="directory"/> (its data, inside the temporary folder). Exit handlers do not
    /// run when the test host is killed after its run, which left servers and their data behind.
    /// </summary>
    public static void WhenThisProcessEnds(string directory, string file, params string[] args)
    {
        // GetTempPath ends with a separator, so only a folder strictly inside it passes.
        var temporary = Path.GetFullPath(Path.GetTempPath());
        var full = Path.IsPathFullyQualified(directory) ? Path.GetFullPath(directory) : "";
        if (!full.StartsWith(temporary, StringComparison.Ordinal) || full.Length <= temporary.Length)
        {
            throw new ArgumentException($"Only a folder inside {temporary} is deleted when the tests end, not '{directory}'.", nameof(directory));
        }

        var watcher = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        const string Script = "pid=$0; directory=$1; shift; while kill -0 \"$pid\" 2>/dev/null; do sleep 1; done; " +
            "\"$@\" >/dev/null 2>&1; sleep 1; rm -rf -- \"$directory\"";
        foreach (var arg in (string[])["-c", Script, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), directory, file, .. args])
        {
            watcher.ArgumentList.Add(arg);
        }

        using var process = Process.Start(watcher);
    }

    /// <summary>A loopback port nobody listens on right now, for a server a test starts.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
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
