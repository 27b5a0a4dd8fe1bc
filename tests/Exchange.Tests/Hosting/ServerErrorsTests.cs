using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Exchange.Tests.Hosting;

/// <summary>The test gateways' error check: an undeclared server error fails the test that caused it.</summary>
public sealed class ServerErrorsTests
{
    private const string Gateway = "/tmp/exchange-tests/example";

    private static void Log(ServerErrors errors, string category, int eventId, LogLevel level = LogLevel.Error) =>
        errors.CreateLogger(category).Log(level, new EventId(eventId), "something failed", null, (message, _) => message);

    [Fact]
    public void An_undeclared_error_fails_the_check_that_first_sees_it_and_only_that_one()
    {
        var errors = new ServerErrors();
        Log(errors, "Exchange.Server.Storage.Database", 20);
        Log(errors, "Exchange.Server.Storage.Database", 23, LogLevel.Warning);

        var failure = Assert.Throws<UnexpectedServerErrorException>(() => errors.Check(Gateway, "A_test"));
        Assert.Contains("1 error(s) during A_test", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Exchange.Server.Storage.Database[20]", failure.Message, StringComparison.Ordinal);

        // The next test on the same gateway starts clean.
        errors.Check(Gateway, "The_next_test");
    }

    [Fact]
    public void A_declared_error_passes_and_the_declaration_ends_with_its_test()
    {
        var errors = new ServerErrors();
        var mark = errors.ExpectationMark();
        errors.Expect(e => e.Is("CheckpointPublisher", 31));
        Log(errors, "Exchange.Server.Audit.CheckpointPublisher", 31);
        errors.Check(Gateway, "A_test", mark);

        Log(errors, "Exchange.Server.Audit.CheckpointPublisher", 31);
        Assert.Throws<UnexpectedServerErrorException>(() => errors.Check(Gateway, "The_next_test", errors.ExpectationMark()));
    }

    [Fact]
    public void Framework_errors_fail_until_the_host_stops_and_the_gateways_own_fail_even_then()
    {
        var errors = new ServerErrors();
        Log(errors, "Microsoft.AspNetCore.Server.Kestrel", 13);
        Assert.Throws<UnexpectedServerErrorException>(() => errors.Check(Gateway));

        errors.HostStopping();
        Log(errors, "Grpc.AspNetCore.Server.ServerCallHandler", 6);
        errors.Check(Gateway);
        Assert.True(Assert.Single(errors.Logged, e => e.Category.StartsWith("Grpc.", StringComparison.Ordinal)).WhileStopping);

        Log(errors, "Exchange.Server.Storage.Database", 20);
        var failure = Assert.Throws<UnexpectedServerErrorException>(() => errors.Check(Gateway));
        Assert.Contains("(while the host stopped)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gateway_marks_what_it_logs_once_its_host_begins_to_stop_and_fails_on_dispose_for_its_own()
    {
        var quiet = new ExchangeFactory();
        var loggers = quiet.Services.GetRequiredService<ILoggerFactory>();
        loggers.CreateLogger("Exchange.Server.Audit.CheckpointPublisher").LogError("declared");
        quiet.ExpectErrors(e => e.Message == "declared");
        quiet.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").LogError("cut off by the shutdown");
        quiet.Dispose();
        Assert.Equal([false, true], quiet.Errors.Logged.Select(e => e.WhileStopping));

        var failing = new ExchangeFactory();
        failing.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        failing.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Exchange.Server.Storage.Database").LogError("a commit cut off");
        var failure = Assert.Throws<UnexpectedServerErrorException>(failing.Dispose);
        Assert.Contains("a commit cut off", failure.Message, StringComparison.Ordinal);
    }
}
