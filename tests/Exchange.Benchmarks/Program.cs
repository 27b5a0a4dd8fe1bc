using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Exchange.Benchmarks;

/// <summary>
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- --filter '*'   (BenchmarkDotNet: audit appends, proofs)
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- transfer        (gateway vs bare gRPC throughput, memory)
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- unary           (catalog calls vs a bare unary call; a catalog that grows)
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- table           (tabular upload vs opaque; a view's download vs bare Sep; memory)
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- compute         (GROUP BY queries through the gateway vs bare DuckDB on the plaintext)
/// Every figure is measured against a bare baseline in the same run; read the ratios.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            return await RunAsync(args);
        }
        catch (Exception) when (Harness.Interrupted)
        {
            // The calls under way failed because their servers were stopped: no finding of the benchmark's.
            await Console.Error.WriteLineAsync("interrupted: the servers this run started are stopped and its directories deleted");
            return 130;
        }
    }

    private static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "transfer")
        {
            return await Transfers.TransferBenchmark.RunAsync(args);
        }

        if (args.Length > 0 && args[0] == "unary")
        {
            return await Unary.UnaryBenchmark.RunAsync(args);
        }

        if (args.Length > 0 && args[0] == "table")
        {
            return await Tables.TableBenchmark.RunAsync(args);
        }

        if (args.Length > 0 && args[0] == "compute")
        {
            return await Compute.ComputeBenchmark.RunAsync(args);
        }

        if (args.Length > 2 && args[0] == "serve-bare")
        {
            await Transfers.BareServer.RunAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), args[2]);
            return 0;
        }

        // In-process: the repository's build rules (warnings as errors) do not apply to generated projects.
        var config = DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(8).WithLaunchCount(1))
            .AddColumn(StatisticColumn.OperationsPerSecond)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
