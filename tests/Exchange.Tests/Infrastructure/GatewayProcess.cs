using System.Diagnostics;
using Exchange.Client;
using Exchange.Tests.Smoke;
using Grpc.Core;
using Grpc.Health.V1;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// The real gateway binary over one data directory and port, which a harness can start, kill
/// (SIGKILL) and start again, and whose resident memory it can watch.
/// </summary>
internal sealed class GatewayProcess(string dataDirectory, Action<string> log, params string[] settings) : IAsyncDisposable
{
    private readonly int _port = Tools.FreePort();
    private Process? _process;

    public Uri Address => new($"https://127.0.0.1:{_port}");

    public static string CaFile => Path.Combine(AppContext.BaseDirectory, "certs-dev", "ca.crt");

    /// <summary>The gateway's process id.</summary>
    public int Id => _process!.Id;

    /// <summary>The gateway's resident memory now.</summary>
    public long WorkingSet
    {
        get
        {
            _process!.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <summary>Environment variables for the gateway's process (set before <see cref="StartAsync"/>).</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Tools.ServerBinaries(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["Exchange.Server.dll", "--urls", Address.ToString(), $"--Exchange:DataDirectory={dataDirectory}",
            "--Logging:LogLevel:Default=Warning", .. settings])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log($"gateway: {e.Data}");
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var client = Client(Participant.Acme);
        var health = new Health.HealthClient(client.Channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_process.HasExited, $"the gateway exited with {(_process.HasExited ? _process.ExitCode : 0)} while starting");
            try
            {
                if ((await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2))).Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>SIGKILL: no shutdown, no flushing; whatever the process had not made durable is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public ExchangeClient Client(Participant participant) => new(new ExchangeClientOptions
    {
        Address = Address,
        CaCertificateFile = CaFile,
    }.UseToken(ExchangeFactory.Token(participant.Id, participant.Roles)));

    /// <summary>Runs the <c>exchange</c> command against this gateway as <paramref name="who"/>.</summary>
    public Task<(int Exit, string Out, string Err)> RunCliAsync(Participant who, params string[] args) =>
        ExchangeFactory.RunCliAsync(null, ["--server", Address.ToString(), "--ca", CaFile, "--token", ExchangeFactory.Token(who.Id, who.Roles), .. args]);

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
