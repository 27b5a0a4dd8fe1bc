using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

/// <summary>
/// A gateway that cannot start says why in one line and exits 1: the host's own report of the
/// failure (a stack trace, printed again when the exception escapes) is held back until the
/// gateway has started, and the exception is described in words a person can act on.
/// </summary>
internal sealed class StartupFailure
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private volatile bool _started;

    /// <summary>Whether the gateway is serving; failures before that are startup failures.</summary>
    public bool Started => _started;

    public void MarkStarted() => _started = true;

    /// <summary>
    /// Holds back the host's error log while starting; <see cref="Describe"/> says what went wrong
    /// instead. The rule is the host category's alone (at Information, as the default level): a
    /// filter over every category would replace the configured levels of all of them.
    /// </summary>
    public void QuietHostWhileStarting(ILoggingBuilder logging) =>
        logging.AddFilter(HostCategory, level => level >= LogLevel.Information && (_started || level < LogLevel.Error));

    /// <summary>One line: what failed and, where known, what to do.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        StartupException ex => ex.Message,
        // The settings that cannot work, each naming its setting, in one line.
        OptionsValidationException ex => string.Join(" ", ex.Failures),
        IOException { InnerException: AddressInUseException } ex =>
            $"{ex.Message} Another process (perhaps another gateway) listens there: stop it, or choose another address with --urls.",
        IOException ex when ex.Message.Contains("Failed to bind", StringComparison.Ordinal) => $"{ex.Message} Choose another address with --urls.",
        InvalidOperationException { InnerException: FormatException inner } ex => $"{ex.Message} {inner.Message}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
