using System.Diagnostics;
using System.Globalization;
using Exchange.Tests.Smoke;
using Npgsql;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests, made with the machine's own binaries: initdb into
/// a temporary directory, pg_ctl on a free loopback port (durability off: nothing here must
/// survive), one database per gateway, stopped when the test process exits. As root, the
/// cluster runs as the postgres user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer?> SharedServer = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _bin;
    private readonly string _directory;
    private readonly bool _asPostgresUser;

    private PostgresServer(string bin, string directory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>The one cluster of this test run, started on first use; fails or skips (with how to fix it) where PostgreSQL is missing.</summary>
    public static PostgresServer Shared
    {
        get
        {
            if (SharedServer.Value is { } server)
            {
                return server;
            }

            Assert.False(Tools.Required, "PostgreSQL binaries (initdb, pg_ctl) are required (EXCHANGE_REQUIRE_BACKENDS=1); install postgresql-15.");
            Skip.If(true, "PostgreSQL binaries (initdb, pg_ctl) not found: install postgresql to run the PostgreSQL backend tests.");
            throw new UnreachableException();
        }
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=40;Timeout=30;Command Timeout=60";

    /// <summary>A new, empty database; its name.</summary>
    public string CreateDatabase()
    {
        var name = "exchange_" + Guid.NewGuid().ToString("N");
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        create.ExecuteNonQuery();
        return name;
    }

    private static PostgresServer? Start()
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            return null;
        }

        var directory = Path.Combine(Path.GetTempPath(), "exchange-pg", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var asPostgresUser = Environment.UserName == "root";
        if (asPostgresUser)
        {
            // Only this cluster's folder: another test run's watcher may be deleting its own next to it.
            Run("chown", ["postgres", directory]);
        }

        var server = new PostgresServer(bin, directory, Tools.FreePort(), asPostgresUser);
        var data = Path.Combine(directory, "data");
        server.Pg("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        var options = string.Join(' ',
            $"-p {server.Port}", "-c listen_addresses=127.0.0.1", $"-k {directory}", "-c fsync=off", "-c synchronous_commit=off",
            "-c full_page_writes=off", "-c max_connections=400");
        server.Pg("pg_ctl", ["-D", data, "-l", Path.Combine(directory, "log"), "-o", options, "-w", "-t", "60", "start"]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        string[] stop = [Path.Combine(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"];
        Tools.WhenThisProcessEnds(directory, asPostgresUser ? "runuser" : stop[0], asPostgresUser ? ["-u", "postgres", "--", .. stop] : stop[1..]);
        return server;
    }

    private void Stop()
    {
        try
        {
            Pg("pg_ctl", ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // A temporary directory left behind is harmless.
        }
    }

    private void Pg(string program, string[] args)
    {
        var path = Path.Combine(_bin, program);
        if (_asPostgresUser)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. args]);
        }
        else
        {
            Run(path, args);
        }
    }

    private static void Run(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {error.Result}{output.Result}");
        }
    }

    /// <summary>The directory holding initdb and pg_ctl: EXCHANGE_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH.</summary>
    private static string? FindBinaries()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("EXCHANGE_PG_BIN") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }
}
