using Exchange.Tests.Infrastructure;
using Exchange.Tests.Smoke;
using Xunit.Abstractions;

namespace Exchange.Tests.Readme;

/// <summary>
/// The README's quickstart, run as written, in order, against the real gateway: every command
/// succeeds after the ones before it, and prints what the README says it prints.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ReadmeTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_quickstart_runs_as_written_in_order()
    {
        var root = Tools.RepositoryRoot();
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"));
        var work = Path.Combine(Path.GetTempPath(), "exchange-readme", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(work, "home"));
        Directory.CreateSymbolicLink(Path.Combine(work, "certs-dev"), Path.Combine(root, "certs-dev"));
        var gateway = new GatewayProcess(Path.Combine(work, "data"), output.WriteLine);
        try
        {
            await gateway.StartAsync();
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var cli = Path.Combine(root, "client-sdk", "Exchange.Cli", "bin", configuration, "net10.0", "exchange.dll");
            var walk = new ReadmeWalkthrough(work, cli, gateway.Address, output.WriteLine);

            foreach (var step in ReadmeWalkthrough.Block(readme, "With the `exchange` CLI"))
            {
                if (step.Command.StartsWith("dotnet pack", StringComparison.Ordinal) || step.Command.StartsWith("alias exchange=", StringComparison.Ordinal))
                {
                    // `exchange` is the CLI built with this test run (packing and installing it is ToolPackageTests' business).
                    continue;
                }

                await walk.RunAsync(step, step.Command.Contains("audit tail", StringComparison.Ordinal) ? TimeSpan.FromSeconds(3) : null);
            }

            var buf = Path.Combine(root, "tools", "node_modules", ".bin", "buf");
            Skip.IfNot(File.Exists(buf) || Environment.GetEnvironmentVariable("EXCHANGE_REQUIRE_BACKENDS") == "1",
                "buf is not installed (npm ci --prefix tools); the buf curl block was not run");
            Directory.CreateSymbolicLink(Path.Combine(work, "tools"), Path.Combine(root, "tools"));
            walk.Set("PATH", $"{Path.GetDirectoryName(buf)}:{Environment.GetEnvironmentVariable("PATH")}");
            foreach (var step in ReadmeWalkthrough.Block(readme, "With buf curl"))
            {
                if (step.Command.StartsWith("grpcurl", StringComparison.Ordinal) || step.Command.StartsWith("npm ci", StringComparison.Ordinal))
                {
                    // grpcurl is not packaged here (the README says where to get it); tools/ is installed by CI.
                    continue;
                }

                await walk.RunAsync(step with { Command = step.Command.Replace("https://127.0.0.1:5001", gateway.Address.ToString().TrimEnd('/'), StringComparison.Ordinal) });
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "When a dataset is withdrawn"))
            {
                await walk.RunAsync(step);
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "Aggregate queries under a compute grant"))
            {
                await walk.RunAsync(step);
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "Rights: registration, review"))
            {
                await walk.RunAsync(step);
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "Lineage: derived datasets"))
            {
                await walk.RunAsync(step);
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "Offers and quotes"))
            {
                await walk.RunAsync(step);
            }

            foreach (var step in ReadmeWalkthrough.Block(readme, "Statements, verified; periods and settlement"))
            {
                await walk.RunAsync(step);
            }
        }
        finally
        {
            await gateway.DisposeAsync();
            Directory.Delete(work, recursive: true);
        }
    }
}
