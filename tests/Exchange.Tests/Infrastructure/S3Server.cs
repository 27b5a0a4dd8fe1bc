using System.Diagnostics;
using Exchange.Tests.Smoke;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// A local S3 (npm s3rver from tools/) on a free loopback port with an <c>exchange</c> bucket, for
/// the object-storage tests. <see cref="Available"/> is false when it is not installed.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    private static readonly Lazy<S3Server> SharedServer = new(StartShared, LazyThreadSafetyMode.ExecutionAndPublication);
    private Process? _process;

    /// <summary>One server for the whole test run, started on first use; fails or skips (with how to fix it) where s3rver is missing.</summary>
    public static S3Server Shared
    {
        get
        {
            var server = SharedServer.Value;
            server.SkipUnlessAvailable();
            return server;
        }
    }

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-s3", Guid.NewGuid().ToString("N"));

    public int Port { get; } = Tools.FreePort();

    public bool Available { get; private set; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Gateway settings that put revisions in this bucket.</summary>
    public (string Key, string Value)[] Settings =>
    [
        ("Exchange:Blobs:Kind", "s3"),
        ("Exchange:Blobs:S3:ServiceUrl", ServiceUrl),
        ("Exchange:Blobs:S3:Bucket", "exchange"),
        ("Exchange:Blobs:S3:AccessKey", "S3RVER"),
        ("Exchange:Blobs:S3:SecretKey", "S3RVER"),
        ("Exchange:Blobs:S3:PartSize", "5242880"),
    ];

    /// <summary>Fails the calling test where s3rver is required (CI), or skips it, saying how to install it, when it is not installed.</summary>
    public void SkipUnlessAvailable(string tests = "the object-storage tests")
    {
        if (!Available)
        {
            Assert.False(Tools.Required, "s3rver is required (EXCHANGE_REQUIRE_BACKENDS=1); run: npm ci --prefix tools");
            Skip.If(true, $"s3rver not installed: run `npm ci --prefix tools` to run {tests}.");
        }
    }

    public async Task InitializeAsync()
    {
        var tools = Path.Combine(Tools.RepositoryRoot(), "tools");
        if (!File.Exists(Path.Combine(tools, "node_modules", ".bin", "s3rver")))
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        // Through tools/s3rver.cjs, which answers a write only once the object's file holds all of it.
        var start = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(tools, "s3rver.cjs"), "-d", Directory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s",
            "--configure-bucket", "exchange" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;
        if (!OperatingSystem.IsWindows())
        {
            Tools.WhenThisProcessEnds(Directory, "kill", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await http.GetAsync($"{ServiceUrl}/exchange");
                Available = true;
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        throw new InvalidOperationException("s3rver did not start");
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static S3Server StartShared()
    {
        var server = new S3Server();
        server.InitializeAsync().GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().GetAwaiter().GetResult();
        return server;
    }
}
