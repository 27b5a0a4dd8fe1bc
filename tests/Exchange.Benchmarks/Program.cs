using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Exchange.Benchmarks;

/// <summary>
/// dotnet run -c Release --project tests/Exchange.Benchmarks -- --filter '*'
/// Each benchmark class has a bare baseline measured in the same run; read the Ratio column.
/// </summary>
internal static class Program
{
    public static void Main(string[] args)
    {
        // In-process: the repository's build rules (warnings as errors) do not apply to generated projects.
        var config = DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(8).WithLaunchCount(1))
            .AddColumn(StatisticColumn.OperationsPerSecond)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
