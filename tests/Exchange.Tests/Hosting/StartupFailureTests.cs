using Exchange.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Tests.Hosting;

/// <summary>Holding back the host's startup failure log must not change what every other category logs.</summary>
public sealed class StartupFailureTests
{
    [Fact]
    public void Only_the_hosts_errors_are_held_back_and_only_until_started_other_levels_stay_as_configured()
    {
        var startup = new StartupFailure();
        using var services = new ServiceCollection().AddLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning).AddProvider(new Exchange.Tests.Infrastructure.CapturedLogs());
            startup.QuietHostWhileStarting(logging);
        }).BuildServiceProvider();
        var factory = services.GetRequiredService<ILoggerFactory>();
        var grpc = factory.CreateLogger("Grpc.AspNetCore.Server.ServerCallHandler");
        var host = factory.CreateLogger("Microsoft.Extensions.Hosting.Internal.Host");

        Assert.False(grpc.IsEnabled(LogLevel.Trace));
        Assert.False(grpc.IsEnabled(LogLevel.Information));
        Assert.True(grpc.IsEnabled(LogLevel.Error));
        Assert.False(host.IsEnabled(LogLevel.Error));

        startup.MarkStarted();
        Assert.True(host.IsEnabled(LogLevel.Error));
        Assert.False(host.IsEnabled(LogLevel.Debug));
    }
}
