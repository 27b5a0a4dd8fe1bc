using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange audit trust list|forget</c>: the logs whose checkpoints are trusted, and forgetting one.</summary>
internal static class TrustCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("trust",
            "The audit logs trusted so far (by origin, key and log id), each with the last checkpoint accepted from it.");
        command.Add(List(app));
        command.Add(Forget(app));
        return command;
    }

    private static Command List(CliApp app)
    {
        var trusted = CliApp.TrustedOption();
        var command = new Command("list", "List the trusted logs: origin, log id, size and time of the trusted checkpoint, key.") { trusted };
        command.SetAction(app.Guard((parse, _) =>
        {
            var store = app.TrustedStore(parse, trusted);
            var logs = store.Logs().OrderBy(l => l.Origin, StringComparer.Ordinal).ThenBy(l => l.TrustedTime).ToList();
            if (parse.GetValue(app.Json))
            {
                app.Output.WriteLine(JsonSerializer.Serialize(logs.Select(l => new
                {
                    origin = l.Origin,
                    logId = l.LogId,
                    size = l.Size,
                    trustedTime = l.TrustedTime.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    verifierKey = l.VerifierKey,
                })));
                return Task.FromResult(0);
            }

            if (logs.Count > 0)
            {
                Render.TrustedLogTable(app.Output, logs);
            }

            app.Output.WriteLine($"{(logs.Count == 1 ? "1 trusted log" : $"{logs.Count} trusted logs")} in {store.Path}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Forget(CliApp app)
    {
        var what = new Argument<string>("log")
        {
            Description = "The log to forget: its log id (or its first 8 or more digits), or its origin (every log of that origin).",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("forget",
            "Forget a trusted log, e.g. after its gateway was given a new database: the next verify trusts what it finds on first use.")
        {
            what, trusted,
        };
        command.SetAction(app.Guard(async (parse, _) =>
        {
            var store = app.TrustedStore(parse, trusted);
            var name = parse.GetValue(what)!;
            var forgotten = store.Forget(name);
            if (forgotten.Count == 0)
            {
                await app.Error.WriteLineAsync($"error: no trusted log in {store.Path} has the log id or origin '{Render.Printable(name)}' " +
                    "(`exchange audit trust list` shows them).");
                return 1;
            }

            foreach (var l in forgotten)
            {
                await app.Output.WriteLineAsync($"forgot {Render.Printable(l.Origin)} " +
                    $"{(l.LogId.Length > 0 ? $"log id {l.LogId}" : "(no log id)")} (trusted size {l.Size})");
            }

            return 0;
        }));
        return command;
    }
}
