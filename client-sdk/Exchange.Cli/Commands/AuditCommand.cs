using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Exchange.Client;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange audit list|tail|export|verify|trust</c>.</summary>
internal static class AuditCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("audit", "Read and verify the exchange's transparency log.");
        command.Add(List(app));
        command.Add(Tail(app));
        command.Add(Export(app));
        command.Add(Verify(app));
        command.Add(TrustCommand.Create(app));
        return command;
    }

    private sealed record Filters(Option<string?> Dataset, Option<string?> Participant, Option<string?> Action,
        Option<string?> Since, Option<string?> Until)
    {
        public static Filters Create() => new(
            new Option<string?>("--dataset") { Description = "Only events about this dataset (datasets/…)." },
            new Option<string?>("--participant") { Description = "Only events in which this participant acted or was the subject." },
            new Option<string?>("--action") { Description = "Only this action, e.g. dataset.publish." },
            new Option<string?>("--since") { Description = "Only events at or after this time (ISO 8601)." },
            new Option<string?>("--until") { Description = "Only events before this time (ISO 8601)." });

        public void AddTo(Command command)
        {
            command.Add(Dataset);
            command.Add(Participant);
            command.Add(Action);
            command.Add(Since);
            command.Add(Until);
        }

        public ListAuditEventsRequest Request(ParseResult parse) => new()
        {
            Dataset = parse.GetValue(Dataset) ?? "",
            Participant = parse.GetValue(Participant) ?? "",
            Action = parse.GetValue(Action) ?? "",
            StartTime = Time(parse.GetValue(Since), "--since"),
            EndTime = Time(parse.GetValue(Until), "--until"),
        };

        private static Timestamp? Time(string? text, string option) =>
            text is null ? null
            : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                ? Timestamp.FromDateTimeOffset(time)
                : throw new FormatException($"{option} '{text}' is not a time such as 2026-11-28T15:00:00Z.");
    }

    private static Command List(CliApp app)
    {
        var filters = Filters.Create();
        var limit = new Option<int>("--limit") { Description = "Print at most this many events (0 = all).", DefaultValueFactory = _ => 100 };
        var wide = new Option<bool>("--wide") { Description = "Show every column in full, however wide (default: fit the terminal, cutting long values with …)." };
        var command = new Command("list", "List the audit events you may read, oldest first.") { limit, wide };
        filters.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var events = new List<AuditEvent>();
            await foreach (var e in Events(client, filters.Request(parse), parse.GetValue(limit), cancellationToken))
            {
                events.Add(e);
            }

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, events);
            }
            else
            {
                Render.AuditTable(app.Output, events, parse.GetValue(wide) ? null : app.Width ?? Render.TerminalWidth());
            }

            return 0;
        }));
        return command;
    }

    private static Command Tail(CliApp app)
    {
        var from = new Option<long?>("--from") { Description = "The first index to show; --from 0 replays the whole log (default: only new events)." };
        var command = new Command("tail", "Follow new events in the log as they happen (Ctrl+C to stop); --from N starts at index N.") { from };
        var filters = Filters.Create();
        command.Add(filters.Dataset);
        command.Add(filters.Participant);
        command.Add(filters.Action);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var start = parse.GetValue(from);
            if (start is null)
            {
                start = await LogSizeAsync(client, cancellationToken);
                await app.Error.WriteLineAsync($"following new events from index {start} (--from 0 replays the whole log; Ctrl+C to stop)");
            }

            var request = new WatchAuditEventsRequest
            {
                StartIndex = start.Value,
                Dataset = parse.GetValue(filters.Dataset) ?? "",
                Participant = parse.GetValue(filters.Participant) ?? "",
                Action = parse.GetValue(filters.Action) ?? "",
            };
            using var call = client.Audit.WatchAuditEvents(request, cancellationToken: cancellationToken);
            var next = request.StartIndex;
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    next = response.Event.Index + 1;
                    await app.Output.WriteLineAsync(parse.GetValue(app.Json) ? Render.JsonText(response.Event) : Render.AuditLine(response.Event));
                    await app.Output.FlushAsync(cancellationToken);
                }
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested &&
                ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Ctrl+C is how a tail ends.
                return 0;
            }

            // The gateway ends every watch after its maximum duration; say how to go on from here.
            await app.Error.WriteLineAsync($"the gateway ended the watch; continue with: exchange audit tail --from {next}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The index the next event will have, as far as the caller can tell: the latest checkpoint's
    /// size, moved past the events after it that the caller may read.
    /// </summary>
    private static async Task<long> LogSizeAsync(Exchange.Client.ExchangeClient client, CancellationToken cancellationToken)
    {
        var size = (await client.Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken)).Checkpoint.Size;
        await foreach (var e in client.EnumerateAuditEventsAsync(new ListAuditEventsRequest { StartIndex = size, PageSize = 1000 }, cancellationToken))
        {
            size = Math.Max(size, e.Index + 1);
        }

        return size;
    }

    private static Command Export(CliApp app)
    {
        var filters = Filters.Create();
        var format = new Option<string>("--format") { Description = "jsonl (one JSON event per line) or csv.", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("jsonl", "csv");
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output." };
        var command = new Command("export", "Write every event you may read as JSON Lines or CSV (for spreadsheets).") { format, output };
        filters.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var path = parse.GetValue(output);
            await using var file = path is null ? null : new StreamWriter(path, append: false, new UTF8Encoding(false));
            var writer = (TextWriter?)file ?? app.Output;
            var csv = parse.GetValue(format) == "csv";
            if (csv)
            {
                await writer.WriteLineAsync("index,time,actor,action,resource,dataset,subject,outcome,details,leaf_base64");
            }

            long count = 0;
            await foreach (var e in Events(client, filters.Request(parse), 0, cancellationToken))
            {
                await writer.WriteLineAsync(csv ? CsvLine(e) : Render.JsonText(e));
                count++;
            }

            if (path is not null)
            {
                await app.Error.WriteLineAsync($"exported {count} events to {path}");
            }

            return 0;
        }));
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The log's note verifier key (name+keyid+key) to require. Default: the one stored with this log's trusted " +
                "checkpoint, or, for a log never seen, the key the server publishes.",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("verify",
            "Download every leaf, recompute the root, check the signed checkpoint and its consistency with the last trusted one.")
        {
            key, trusted,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var store = app.TrustedStore(parse, trusted);
            var pinned = parse.GetValue(key) is { } text ? NoteVerifierKey.Parse(text) : null;

            var result = await client.VerifyAuditLogAsync(new AuditLogVerifyOptions { AuditLogKey = pinned, TrustedCheckpoints = store }, cancellationToken);
            if (result is { Succeeded: true, NewLog: true })
            {
                await app.NoteNewLogAsync(result.Checkpoint!, result.Key!, pinned is not null, store);
            }

            if (!result.Succeeded)
            {
                await app.Error.WriteLineAsync(result.FirstBadIndex is { } index
                    ? $"verification FAILED at index {index}: {Render.Printable(result.Message)}"
                    : $"verification FAILED: {Render.Printable(result.Message)}");
                // The same log (by its signed id) as trusted before: not a new database behind the same address.
                if (result is { Inconsistent: true, TrustedBefore.LogId.Length: > 0 })
                {
                    var id = result.TrustedBefore.LogId;
                    await app.Error.WriteLineAsync($"      this is the log trusted before (log id {id}), and events it had signed are not in it now.");
                    await app.Error.WriteLineAsync($"      if that is known (e.g. its database was restored from a backup), `exchange audit trust forget {id}` " +
                        "trusts the log as it is now.");
                }

                return 1;
            }

            await app.Output.WriteLineAsync($"OK: {Render.Printable(result.Message)}");
            if (result.EventsAfterCheckpoint > 0)
            {
                await app.Output.WriteLineAsync($"{result.EventsAfterCheckpoint} newer events are not covered by a checkpoint yet; run again to check them.");
            }

            await app.Output.WriteLineAsync($"trusted checkpoint of this log saved to {store.Path}");
            return 0;
        }));
        return command;
    }

    private static IAsyncEnumerable<AuditEvent> Events(Exchange.Client.ExchangeClient client, ListAuditEventsRequest request, int limit,
        CancellationToken cancellationToken)
    {
        request.PageSize = 1000;
        return client.EnumerateAuditEventsAsync(request, cancellationToken).AtMost(limit);
    }

    private static string CsvLine(AuditEvent e)
    {
        var details = JsonSerializer.Serialize(e.Details.ToDictionary(d => d.Key, d => d.Value));
        // Spreadsheets show bidi controls too, and the CSV may go to a terminal: the text columns are
        // escaped like any printed string (the exact record stays in leaf_base64; details are JSON).
        string[] fields =
        [
            e.Index.ToString(CultureInfo.InvariantCulture), e.Time.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture),
            Render.Printable(e.Actor), Render.Printable(e.Action), Render.Printable(e.Resource), Render.Printable(e.Dataset),
            Render.Printable(e.Subject), Render.EnumName(e.Outcome), details, e.Leaf.ToBase64(),
        ];
        return string.Join(',', fields.Select(Csv));
    }

    /// <summary>RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula.</summary>
    private static string Csv(string field)
    {
        if (field.Length > 0 && "=+-@".Contains(field[0], StringComparison.Ordinal))
        {
            field = "'" + field;
        }

        return field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;
    }
}
