using System.CommandLine;
using System.Diagnostics;
using Exchange.Client.Transfers;
using Exchange.Transparency;
using Exchange.V1;
using Spectre.Console;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange upload</c> and <c>exchange download</c>, with progress bars on a terminal.</summary>
internal static class TransferCommands
{
    public static Command Upload(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset, e.g. datasets/abc123." };
        var file = new Argument<string>("file") { Description = "The file to upload as a new revision." };
        var mediaType = new Option<string?>("--media-type")
        {
            Description = "The IANA media type of the file (default: by its extension, .csv, .parquet, .arrows (an Arrow stream) " +
                "or .arrow (an Arrow file) make it a table; else application/octet-stream).",
        };
        var columns = new Option<string[]>("--column")
        {
            Description = "For a table: declare a column as name:type (string, int64, double, decimal, bool, date, timestamp; "
                + "a trailing ? allows empty values), checked on every row; repeat for several.",
        };
        var describable = new Option<string[]>("--describable")
        {
            Description = "For a table: a column whose smallest, largest and most frequent values the quality report may show; repeat for several.",
        };
        var strict = new Option<bool>("--strict") { Description = "For a table: refuse the upload at the first row breaking the schema." };
        var command = new Command("upload", "Upload a file as a new, immutable revision of a dataset (its provider).")
        {
            dataset, file, mediaType, columns, describable, strict,
        };
        var last = new LastProgress();
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var path = parse.GetValue(file)!;
            var media = parse.GetValue(mediaType) ?? Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".csv" => "text/csv",
                ".parquet" => "application/vnd.apache.parquet",
                ".arrows" => "application/vnd.apache.arrow.stream",
                ".arrow" => "application/vnd.apache.arrow.file",
                _ => "application/octet-stream",
            };
            var schema = DeclaredSchema(parse.GetValue(columns) ?? [], parse.GetValue(describable) ?? []);
            var options = new UploadOptions { MediaType = media, Schema = schema, Strict = parse.GetValue(strict) };
            var watch = Stopwatch.StartNew();
            var revision = await WithProgressAsync(app, $"upload {Path.GetFileName(path)}", new FileInfo(path).Length, last,
                progress => client.UploadFileAsync(parse.GetValue(dataset)!, path, options with { Progress = progress }, cancellationToken));
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, revision);
            }
            else
            {
                await app.Output.WriteLineAsync($"{Render.Printable(revision.Name)}: {revision.SizeBytes:N0} bytes, sha256 {Convert.ToHexStringLower(revision.Sha256.Span)} " +
                    $"({Rate(revision.SizeBytes, watch.Elapsed)})");
                if (revision.Format != TableFormat.Unspecified)
                {
                    Render.TableProfile(app.Output, revision);
                }
            }

            return 0;
        }, () => $"interrupted at {last.Text}; nothing was stored: run the same command again to upload it."));
        return command;
    }

    /// <summary>The columns declared with <c>--column name:type[?]</c> and <c>--describable name</c>; null when none are.</summary>
    private static Schema? DeclaredSchema(string[] columns, string[] describable)
    {
        var schema = new Schema();
        foreach (var declaration in columns)
        {
            var (name, typeText) = declaration.LastIndexOf(':') is var colon and > 0
                ? (declaration[..colon], declaration[(colon + 1)..])
                : throw new FormatException($"--column '{declaration}' is not name:type, e.g. amount:decimal or note:string?.");
            var nullable = typeText.EndsWith('?');
            if (!Render.TryParseEnum<ColumnType>(typeText.TrimEnd('?'), out var type) || type == ColumnType.Unspecified)
            {
                throw new FormatException(
                    $"--column '{declaration}': '{typeText.TrimEnd('?')}' is not a column type (string, int64, double, decimal, bool, date, timestamp).");
            }

            schema.Columns.Add(new Column { Name = name, Type = type, Nullable = nullable });
        }

        foreach (var name in describable)
        {
            var column = schema.Columns.FirstOrDefault(c => c.Name == name);
            if (column is null)
            {
                schema.Columns.Add(new Column { Name = name, Describable = true });
            }
            else
            {
                column.Describable = true;
            }
        }

        return schema.Columns.Count == 0 ? null : schema;
    }

    public static Command Download(CliApp app)
    {
        var grant = new Argument<string>("grant") { Description = "The grant to download under, e.g. grants/abc123." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the file.", Required = true };
        var purpose = new Option<string>("--purpose") { Description = "The purpose of this download; one the grant allows.", Required = true };
        var revision = new Option<string?>("--revision") { Description = "A revision name; default: the latest." };
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The audit log's note verifier key (name+keyid+key) the receipt's checkpoint must be signed by. Default: the one " +
                "stored with that log's trusted checkpoint, or, for a log never seen, the key the gateway publishes; never the key the receipt names.",
        };
        var trusted = CliApp.TrustedOption();
        var format = new Option<string?>("--format")
        {
            Description = "For a table: csv, parquet or arrow_ipc (default: the format it was uploaded in). A grant with a view always "
                + "delivers only its part of the table.",
        };
        var command = new Command("download",
            "Download a revision under a grant. Run it again after an interruption: it resumes. The file appears only once its " +
            "SHA-256 and the transfer receipt verify against the trusted key and checkpoint.")
        {
            grant, output, purpose, revision, key, trusted, format,
        };
        var last = new LastProgress();
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var store = app.TrustedStore(parse, trusted);
            var pinned = parse.GetValue(key) is { } text ? NoteVerifierKey.Parse(text) : null;
            using var client = app.Connect(parse, options =>
            {
                options.AuditLogKey = pinned;
                options.TrustedCheckpoints = store;
            });
            var path = parse.GetValue(output)!;
            var watch = Stopwatch.StartNew();
            var result = await WithProgressAsync(app, $"download {Path.GetFileName(path)}", null, last,
                progress => client.DownloadToFileAsync(parse.GetValue(grant)!, path,
                    new DownloadOptions
                    {
                        Purpose = parse.GetValue(purpose)!,
                        Revision = parse.GetValue(revision),
                        Progress = progress,
                        Format = Render.ParseEnumOption<TableFormat>(parse.GetValue(format), "--format"),
                    }, cancellationToken));
            if (result.Verification.NewLog)
            {
                await app.NoteNewLogAsync(result.Verification.Checkpoint!, result.Verification.Key!, pinned is not null, store);
            }

            if (parse.GetValue(app.Json))
            {
                await app.Output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(new
                {
                    path = result.Path,
                    transfer = result.Transfer,
                    revision = result.Revision,
                    sizeBytes = result.SizeBytes,
                    sha256 = Convert.ToHexStringLower(result.Sha256),
                    resumed = result.Resumed,
                    receiptIndex = result.Receipt.Event.Index,
                    checkpointSize = result.Checkpoint.Size,
                    verifierKey = result.Verification.Key!.Encoded,
                }));
            }
            else
            {
                await app.Output.WriteLineAsync($"{result.Path}: {result.SizeBytes:N0} bytes of {Render.Printable(result.Revision)}, sha256 {Convert.ToHexStringLower(result.Sha256)} verified" +
                    (result.Resumed ? " (resumed)" : "") + $" ({Rate(result.SizeBytes, watch.Elapsed)})");
                await app.Output.WriteLineAsync($"receipt: {Render.Printable(result.Verification.Message)} (verified)");
                if (result.Receipt.Event.Details.FirstOrDefault(d => d.Key == "view_sha256") is { } view)
                {
                    // The bytes are the grant's view of the table; the log names which view.
                    await app.Output.WriteLineAsync($"view: sha256 {Render.Printable(view.Value)}, recorded with the transfer");
                }
            }

            return 0;
        }, () => last.Value is null
            ? "interrupted before the transfer started; run the same command again to download."
            : $"interrupted at {last.Text}; run the same command again to resume."));
        return command;
    }

    /// <summary>
    /// Runs a transfer, reporting progress to <paramref name="last"/>, with a live bar (bytes/s and time
    /// left) when the output is a terminal. The bar appears once the size is known (a download's
    /// header), and is updated on the transfer's own thread, not posted, so it never lags behind.
    /// </summary>
    private static async Task<T> WithProgressAsync<T>(CliApp app, string description, long? size, LastProgress last,
        Func<IProgress<TransferProgress>, Task<T>> run)
    {
        if (!app.Interactive)
        {
            return await run(new Reporter(last.Set));
        }

        T result = default!;
        var console = app.ProgressConsole ?? AnsiConsole.Console;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask? task = null;
                var gate = new object();
                void Show(TransferProgress p)
                {
                    lock (gate)
                    {
                        if (task is null)
                        {
                            if ((p.TotalBytes ?? size) is not { } total)
                            {
                                return;
                            }

                            task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                        }
                        else if (p.TotalBytes is { } total)
                        {
                            task.MaxValue = Math.Max(total, 1);
                        }

                        task.Value = p.Bytes;
                    }
                }

                if (size is { } known)
                {
                    Show(new TransferProgress(0, known));
                }

                result = await run(new Reporter(p =>
                {
                    last.Set(p);
                    Show(p);
                }));
                lock (gate)
                {
                    if (task is not null)
                    {
                        task.Value = task.MaxValue;
                    }
                }
            });
        return result;
    }

    /// <summary>A transfer rate in a unit that suits it: 512 B/s, 12.5 KB/s, 3.2 MB/s, 1.1 GB/s.</summary>
    internal static string Rate(long bytes, TimeSpan elapsed)
    {
        var perSecond = bytes / Math.Max(elapsed.TotalSeconds, 0.001);
        return perSecond switch
        {
            >= 1_000_000_000 => $"{perSecond / 1_000_000_000:0.0} GB/s",
            >= 1_000_000 => $"{perSecond / 1_000_000:0.0} MB/s",
            >= 1_000 => $"{perSecond / 1_000:0.0} KB/s",
            _ => $"{perSecond:0} B/s",
        };
    }

    /// <summary>Calls <paramref name="report"/> on the reporting thread (a <see cref="Progress{T}"/> posts, and its reports arrive late and out of order).</summary>
    private sealed class Reporter(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }

    /// <summary>The last progress reported, for the line printed on Ctrl+C.</summary>
    private sealed class LastProgress
    {
        private TransferProgress? _value;

        public TransferProgress? Value => _value;

        public string Text => _value is { } p
            ? p.TotalBytes is { } total ? $"{p.Bytes:N0} of {total:N0} bytes" : $"{p.Bytes:N0} bytes"
            : "0 bytes";

        public void Set(TransferProgress value) => _value = value;
    }
}
