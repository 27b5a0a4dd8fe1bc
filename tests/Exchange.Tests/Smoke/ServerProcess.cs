using System.Diagnostics;
using System.Text;
using Exchange.Client;
using Exchange.Tests.Infrastructure;
using Grpc.Health.V1;

namespace Exchange.Tests.Smoke;

/// <summary>
/// The real gateway binary, started as a person would (Development environment, dev
/// certificates, HTTPS on a free loopback port), with its own data directory.
/// </summary>
public sealed class ServerProcess : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "exchange-smoke", Guid.NewGuid().ToString("N"));

    public int Port { get; } = Tools.FreePort();

    public Uri Address => new($"https://127.0.0.1:{Port}");

    public string CaFile => Path.Combine(Tools.RepositoryRoot(), "certs-dev", "ca.crt");

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public ExchangeClient ClientFor(Participant participant, string? caFile = "default") => new(new ExchangeClientOptions
    {
        Address = Address,
        CaCertificateFile = caFile == "default" ? CaFile : caFile,
    }.UseToken(ExchangeFactory.Token(participant.Id, participant.Roles)));

    public async Task InitializeAsync()
    {
        var serverDirectory = Tools.ServerBinaries();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = serverDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "Exchange.Server.dll", "--urls", Address.ToString(), $"--Exchange:DataDirectory={DataDirectory}" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var client = new ExchangeClient(new ExchangeClientOptions { Address = Address, CaCertificateFile = CaFile });
        var health = new Health.HealthClient(client.Channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                var status = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (status.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
