using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace Exchange.Benchmarks;

/// <summary>What the process benchmarks share: starting the gateway and the bare server, options, medians.</summary>
internal static class Harness
{
    // What an interrupted run leaves behind otherwise: servers still running (a later run would share the cores
    // with them) and data directories of several GiB each.
    private static readonly List<Process> Started = [];
    private static readonly List<string> Scratch = [];
    private static readonly Lock Deleting = new();
    private static readonly PosixSignalRegistration[] Interrupts =
        [PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => CleanUp()), PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => CleanUp())];

    private static volatile bool _interrupted;

    /// <summary>Whether Ctrl+C or a kill has stopped the run's servers.</summary>
    public static bool Interrupted => _interrupted;

    /// <summary>The repository's root (where Exchange.sln is), found from the benchmark's own folder.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Exchange.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Exchange.sln not found");
    }

    /// <summary>The bare grpc-dotnet server (BareServer), in a process of its own.</summary>
    public static Process StartBare(int port, string certs) =>
        Start("dotnet", [typeof(Harness).Assembly.Location, "serve-bare", port.ToString(CultureInfo.InvariantCulture), certs],
            Path.GetDirectoryName(typeof(Harness).Assembly.Location)!);

    /// <summary>The gateway as built in Release, in Development (the dev certificates), with <paramref name="settings"/> on its command line.</summary>
    public static Process StartGateway(int port, string dataDirectory, params string[] settings)
    {
        // EXCHANGE_BENCH_GATEWAY_BUILD=Debug measures the gateway as `dotnet run` builds it by default.
        var build = Environment.GetEnvironmentVariable("EXCHANGE_BENCH_GATEWAY_BUILD") ?? "Release";
        var serverDirectory = Path.Combine(RepositoryRoot(), "server", "Exchange.Server", "bin", build, "net10.0");
        return Start("dotnet",
            ["Exchange.Server.dll", "--urls", $"https://127.0.0.1:{port}", $"--Exchange:DataDirectory={dataDirectory}", .. settings], serverDirectory);
    }

    /// <summary>Waits, up to a minute, until every probe answers: the servers have started and listen.</summary>
    public static async Task WaitUntilUpAsync(params Func<Task>[] probes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var probe in probes)
        {
            while (true)
            {
                try
                {
                    await probe();
                    break;
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250);
                }
            }
        }
    }

    /// <summary>A whole download under <paramref name="grant"/> (purpose "benchmark") as a plain client reads it: the bytes received; no trailer is a failure.</summary>
    public static async Task<long> DownloadAsync(Unary.PlainClient client, string grant, string revision = "")
    {
        using var call = new Exchange.V1.TransferService.TransferServiceClient(client.Channel)
            .Download(new Exchange.V1.DownloadRequest { Grant = grant, Revision = revision, Purpose = "benchmark" }, client.Headers);
        long received = 0;
        var trailer = false;
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            received += message.Chunk?.Data.Length ?? 0;
            trailer |= message.PayloadCase == Exchange.V1.DownloadResponse.PayloadOneofCase.Trailer;
        }

        return trailer ? received : throw new InvalidOperationException("no trailer");
    }

    /// <summary>The resident memory of <paramref name="process"/> before <paramref name="work"/>, and its peak (sampled every 50 ms) during it.</summary>
    public static async Task<(long Before, long Peak)> ResidentAsync(Process process, Func<Task> work)
    {
        process.Refresh();
        var before = process.WorkingSet64;
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(50);
            }
        });
        await work();
        await sampling.CancelAsync();
        await sampler;
        return (before, peak);
    }

    /// <summary>The memory line of a process benchmark: growth against the 64 MiB goal.</summary>
    public static string MemoryLine(long before, long peak, string during) =>
        $"memory: gateway resident {before / 1048576.0:0} MiB before, peak {peak / 1048576.0:0} MiB during {during}: " +
        $"growth {(peak - before) / 1048576.0:0} MiB (goal <= 64 MiB) {((peak - before) <= 64L * 1048576 ? "MET" : "NOT MET")}";

    /// <summary>A new directory for one run under the temporary folder's exchange-bench, deleted if the run is interrupted.</summary>
    public static string WorkDirectory(string kind)
    {
        var path = Path.Combine(Path.GetTempPath(), "exchange-bench", $"{kind}-{Guid.NewGuid():N}");
        lock (Scratch)
        {
            Scratch.Add(path);
        }

        return path;
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public static void DeleteDirectory(string path)
    {
        // An interrupted run's signal handler and its own finally may both delete a directory: one at a time, so
        // the second finds it gone instead of parts of it vanishing under its listing.
        lock (Deleting)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Cleanup goes on with the rest; what is left behind is named, so it can be removed by hand.
                Console.Error.WriteLine($"could not delete {path}: {ex.Message}");
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static double Option(string[] args, string name, double fallback) =>
        TextOption(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public static string? TextOption(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Each run's figure in <paramref name="format"/>, in the order measured: what a report shows beside a median.</summary>
    public static string Runs(IEnumerable<double> values, string format) =>
        string.Join(" ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    /// <summary>A dev token for <paramref name="participant"/>, signed with certs-dev's key.</summary>
    public static string Token(string certs, string participant, string role) =>
        Exchange.Cli.DevTokens.Mint(Path.Combine(certs, "jwt-signing.key"), participant, [role], TimeSpan.FromHours(2));

    private static Process Start(string file, string[] args, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        lock (Started)
        {
            Started.Add(process);
        }

        return process;
    }

    /// <summary>On Ctrl+C or a kill: the servers this run started are stopped and its directories deleted before the process ends.</summary>
    private static void CleanUp()
    {
        _interrupted = true;
        lock (Started)
        {
            foreach (var process in Started)
            {
                try
                {
                    Stop(process);
                }
                catch (InvalidOperationException)
                {
                    // Already disposed by a run that finished with it.
                }
            }
        }

        lock (Scratch)
        {
            Scratch.ForEach(DeleteDirectory);
        }
    }
}
