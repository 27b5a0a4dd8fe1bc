using Microsoft.Extensions.Logging;

namespace Exchange.Tests.Infrastructure;

/// <summary>One Error or Critical line a test gateway logged; <paramref name="WhileStopping"/> when its host had begun to stop.</summary>
public sealed record ServerLogEntry(LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception, bool WhileStopping = false)
{
    /// <summary>Whether the line is event <paramref name="eventId"/> of the logger whose category (its class's full name) ends with <paramref name="category"/>.</summary>
    public bool Is(string category, int eventId) =>
        EventId.Id == eventId && (Category == category || Category.EndsWith("." + category, StringComparison.Ordinal));

    /// <summary>Whether the gateway's own code logged it (not ASP.NET Core, grpc-dotnet or another library beneath it).</summary>
    public bool FromGateway => Category.StartsWith("Exchange.", StringComparison.Ordinal);

    public override string ToString() =>
        $"{Level} {Category}[{EventId.Id}{(EventId.Name is null ? "" : " " + EventId.Name)}]{(WhileStopping ? " (while the host stopped)" : "")}: {Message}"
        + (Exception is null ? "" : Environment.NewLine + "    " + Exception.ToString().ReplaceLineEndings(Environment.NewLine + "    "));
}

/// <summary>
/// The Error and Critical lines a test gateway logs, and the ones its test declared it expects
/// (<see cref="ExchangeFactory.ExpectErrors"/>). <see cref="Check"/> fails, listing them, for any
/// other line logged since the previous check: a gateway of its own checks when it is disposed, a
/// class's shared gateway after each test (<see cref="SharedGatewayTests{TGateway}"/>), so the test
/// that made a server fail quietly behind a passing client call fails itself.
/// Lines logged once the host began to stop (a checkpoint or commit cut off by the shutdown) fail
/// only when the gateway's own code logged them; the frameworks' are printed on stderr.
/// Modelled on grpc-dotnet's VerifyNoErrorsScope.
/// </summary>
public sealed class ServerErrors : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<ServerLogEntry> _entries = [];
    private readonly List<Func<ServerLogEntry, bool>> _expected = [];
    private int _checked;
    private volatile bool _stopping;

    /// <summary>Every Error and Critical line logged so far, expected or not.</summary>
    public IReadOnlyList<ServerLogEntry> Logged
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>The lines no declared expectation matches, checked or not.</summary>
    public IReadOnlyList<ServerLogEntry> Unexpected
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries.Where(e => !_expected.Any(expected => expected(e)))];
            }
        }
    }

    public void Expect(Func<ServerLogEntry, bool> expected)
    {
        lock (_lock)
        {
            _expected.Add(expected);
        }
    }

    /// <summary>Where a test on a shared gateway begins: the expectations it declares are dropped at its <see cref="Check"/>.</summary>
    public int ExpectationMark()
    {
        lock (_lock)
        {
            return _expected.Count;
        }
    }

    /// <summary>Called as the host begins to stop: what is logged from now on is shutdown.</summary>
    public void HostStopping() => _stopping = true;

    /// <summary>
    /// Throws, listing them, when a line no expectation matches was logged since the previous check
    /// (unless it was logged while the host stopped and not by the gateway's own code: that one is
    /// printed on stderr). With <paramref name="dropExpectationsFrom"/>, the expectations declared
    /// since that <see cref="ExpectationMark"/> are dropped afterwards, as their test has ended.
    /// </summary>
    public void Check(string gateway, string? test = null, int? dropExpectationsFrom = null)
    {
        List<ServerLogEntry> unexpected;
        lock (_lock)
        {
            unexpected = [.. _entries.Skip(_checked).Where(e => !_expected.Any(expected => expected(e)))];
            _checked = _entries.Count;
            if (dropExpectationsFrom is { } mark && mark < _expected.Count)
            {
                _expected.RemoveRange(mark, _expected.Count - mark);
            }
        }

        foreach (var noise in unexpected.Where(e => e.WhileStopping && !e.FromGateway))
        {
            Console.Error.WriteLine($"warning: the test gateway ({gateway}) logged an undeclared framework error while stopping: {noise}");
        }

        var failing = unexpected.Where(e => !e.WhileStopping || e.FromGateway).ToList();
        if (failing.Count > 0)
        {
            throw new UnexpectedServerErrorException(
                $"The test gateway ({gateway}) logged {failing.Count} error(s) {(test is null ? "" : $"during {test} ")}that the test did not declare. "
                + "Fix the cause, or, if the test provokes them on purpose, declare them with "
                + "factory.ExpectErrors(e => e.Is(category, eventId)):"
                + Environment.NewLine + string.Join(Environment.NewLine, failing.Select(e => "  " + e)));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ServerErrors owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var entry = new ServerLogEntry(logLevel, category, eventId, formatter(state, exception), exception, owner._stopping);
                lock (owner._lock)
                {
                    owner._entries.Add(entry);
                }
            }
        }
    }
}

/// <summary>A test gateway logged an error its test did not declare.</summary>
public sealed class UnexpectedServerErrorException(string message) : Exception(message);
