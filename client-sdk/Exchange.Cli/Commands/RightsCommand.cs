using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Exchange.Client.Rights;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

/// <summary>
/// <c>exchange rights …</c>: the rights registry. Register with evidence (the CLI hashes the
/// documents; they stay with you), review, object, license, transfer, change, renew, cancel; write
/// a right's certificate and verify one offline.
/// </summary>
internal static class RightsCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("rights", "Register rights over datasets, review them, and prove them with certificates.");
        command.Add(Register(app));
        command.Add(Get(app));
        command.Add(List(app));
        command.Add(Object(app));
        command.Add(Resolve(app));
        command.Add(Simple(app, "approve", "Approve a registration or change once its notice is over (operator).",
            async (c, n, ct) => (await c.Rights.ApproveRightAsync(new ApproveRightRequest { Name = n }, cancellationToken: ct)).Right));
        command.Add(WithReason(app, "reject", "Reject a registration or change under review (operator).", required: true,
            async (c, n, r, ct) => (await c.Rights.RejectRightAsync(new RejectRightRequest { Name = n, Reason = r }, cancellationToken: ct)).Right));
        command.Add(License(app));
        command.Add(Transfer(app));
        command.Add(Simple(app, "accept", "Accept a right offered to you; you become its holder.",
            async (c, n, ct) => (await c.Rights.AcceptRightTransferAsync(new AcceptRightTransferRequest { Name = n }, cancellationToken: ct)).Right));
        command.Add(Change(app));
        command.Add(Renew(app));
        command.Add(WithReason(app, "cancel", "Cancel a right and every licence drawn from it (its holder; an operator with --reason).", required: false,
            async (c, n, r, ct) => (await c.Rights.CancelRightAsync(new CancelRightRequest { Name = n, Reason = r }, cancellationToken: ct)).Right));
        command.Add(Certificate(app));
        command.Add(Verify(app));
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The right, e.g. datasets/abc/rights/def." };

    private static Option<string[]> Purposes() => new("--purpose") { Description = "A purpose covered (repeat; none: any purpose).", AllowMultipleArgumentsPerToken = false };

    private static Option<string[]> Territories() => new("--territory") { Description = "An ISO 3166 code covered, e.g. NO or CN-GD (repeat; none: anywhere)." };

    private static Option<string?> Start() => new("--start") { Description = "When it begins (ISO 8601); default: now." };

    private static Option<string?> End(string description = "When it ends (ISO 8601, e.g. 2027-12-31T00:00:00Z); default: no end.") =>
        new("--end") { Description = description };

    private static Command Register(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset you provide, e.g. datasets/abc123." };
        var kind = new Option<string>("--kind") { Description = "holding, processing-use or product-operation.", Required = true };
        var basis = new Option<string>("--basis") { Description = "own-collection, source-authorization, purchase or derivation.", Required = true };
        var evidence = new Option<string[]>("--evidence")
        {
            Description = "A supporting document (repeat): the CLI registers its SHA-256 and media type; the document stays with you.",
            Required = true,
        };
        var purposes = Purposes();
        var territories = Territories();
        var start = Start();
        var end = End();
        var command = new Command("register", "Register a right you hold on a dataset you provide; it is under public notice until reviewed.")
        {
            dataset, kind, basis, evidence, purposes, territories, start, end,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var right = new Right
            {
                Kind = Render.ParseEnumOption<RightKind>(parse.GetValue(kind), "--kind"),
                Basis = new RightBasis { Kind = Render.ParseEnumOption<RightBasisKind>(parse.GetValue(basis), "--basis") },
                Scope = Scope(parse.GetValue(purposes), parse.GetValue(territories)),
                StartTime = Time(parse.GetValue(start), "--start"),
                EndTime = Time(parse.GetValue(end), "--end"),
            };
            foreach (var path in parse.GetValue(evidence) ?? [])
            {
                right.Basis.Evidence.Add(await EvidenceAsync(path, cancellationToken));
            }

            using var client = app.Connect(parse);
            var registered = (await client.Rights.RegisterRightAsync(new RegisterRightRequest { Parent = parse.GetValue(dataset), Right = right },
                cancellationToken: cancellationToken)).Right;
            Print(app, parse, registered);
            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app) =>
        Simple(app, "get", "Show one right: holder, scope, validity, basis, review and objections.",
            async (c, n, ct) => (await c.Rights.GetRightAsync(new GetRightRequest { Name = n }, cancellationToken: ct)).Right);

    private static Command List(CliApp app)
    {
        var dataset = new Option<string?>("--dataset") { Description = "Only rights on this dataset." };
        var holder = new Option<string?>("--holder") { Description = "Only rights this participant holds." };
        var kind = new Option<string?>("--kind") { Description = "holding, processing-use or product-operation." };
        var state = new Option<string?>("--state") { Description = "pending, active, rejected, cancelled or expired." };
        var command = new Command("list", "List registered rights (the registry is public).") { dataset, holder, kind, state };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var request = new ListRightsRequest
            {
                Parent = parse.GetValue(dataset) ?? "",
                Holder = parse.GetValue(holder) ?? "",
                Kind = Render.ParseEnumOption<RightKind>(parse.GetValue(kind), "--kind"),
                State = Render.ParseEnumOption<RightState>(parse.GetValue(state), "--state"),
                PageSize = 500,
            };
            var rights = new List<Right>();
            do
            {
                var page = await client.Rights.ListRightsAsync(request, cancellationToken: cancellationToken);
                rights.AddRange(page.Rights);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, rights);
            }
            else
            {
                Render.RightTable(app.Output, rights);
            }

            return 0;
        }));
        return command;
    }

    private static Command Object(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string>("--reason") { Description = "Why; the holder, the reviewer and the log see it.", Required = true };
        var command = new Command("object", "Object to a registration or change under public notice.") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var filed = await client.Rights.FileRightObjectionAsync(new FileRightObjectionRequest { Name = parse.GetValue(name), Reason = parse.GetValue(reason) },
                cancellationToken: cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, filed);
            }
            else
            {
                app.Output.WriteLine($"objection {filed.Objection.Name} filed; approval waits until the reviewer resolves it");
            }

            return 0;
        }));
        return command;
    }

    private static Command Resolve(CliApp app)
    {
        var objection = new Argument<string>("objection") { Description = "The objection, e.g. datasets/abc/rights/def/objections/ghi." };
        var uphold = new Option<bool>("--uphold") { Description = "Uphold it: what was under review is rejected." };
        var dismiss = new Option<bool>("--dismiss") { Description = "Dismiss it: review goes on." };
        var reason = new Option<string>("--reason") { Description = "The reviewer's reason.", Required = true };
        var command = new Command("resolve", "Uphold or dismiss an objection (operator).") { objection, uphold, dismiss, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(uphold) == parse.GetValue(dismiss))
            {
                throw new FormatException("Give exactly one of --uphold and --dismiss.");
            }

            using var client = app.Connect(parse);
            var right = (await client.Rights.ResolveRightObjectionAsync(
                new ResolveRightObjectionRequest { Name = parse.GetValue(objection), Uphold = parse.GetValue(uphold), Reason = parse.GetValue(reason) },
                cancellationToken: cancellationToken)).Right;
            Print(app, parse, right);
            return 0;
        }));
        return command;
    }

    private static Command License(CliApp app)
    {
        var name = NameArgument();
        var to = new Option<string>("--to") { Description = "The licensee, a participant id.", Required = true };
        var kind = new Option<string>("--kind") { Description = "processing-use or product-operation.", Required = true };
        var purposes = Purposes();
        var territories = Territories();
        var start = Start();
        var end = End("When the licence ends; default: when the licensed right does.");
        var command = new Command("license", "License a processing-use or product-operation right from your holding right.")
        {
            name, to, kind, purposes, territories, start, end,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var p = parse.GetValue(purposes) ?? [];
            var t = parse.GetValue(territories) ?? [];
            using var client = app.Connect(parse);
            var licence = (await client.Rights.LicenseRightAsync(new LicenseRightRequest
            {
                Name = parse.GetValue(name),
                Licensee = parse.GetValue(to),
                Kind = Render.ParseEnumOption<RightKind>(parse.GetValue(kind), "--kind"),
                Scope = p.Length == 0 && t.Length == 0 ? null : Scope(p, t),
                StartTime = Time(parse.GetValue(start), "--start"),
                EndTime = Time(parse.GetValue(end), "--end"),
            }, cancellationToken: cancellationToken)).Right;
            Print(app, parse, licence);
            return 0;
        }));
        return command;
    }

    private static Command Transfer(CliApp app)
    {
        var name = NameArgument();
        var to = new Option<string?>("--to") { Description = "The participant offered the right; it becomes holder when it accepts." };
        var withdraw = new Option<bool>("--withdraw") { Description = "Withdraw a pending offer instead." };
        var command = new Command("transfer", "Offer your right to another participant (or withdraw the offer).") { name, to, withdraw };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var newHolder = parse.GetValue(to);
            if ((newHolder is null) != parse.GetValue(withdraw))
            {
                throw new FormatException("Give --to PARTICIPANT, or --withdraw.");
            }

            using var client = app.Connect(parse);
            var right = (await client.Rights.TransferRightAsync(new TransferRightRequest { Name = parse.GetValue(name), NewHolder = newHolder ?? "" },
                cancellationToken: cancellationToken)).Right;
            Print(app, parse, right);
            return 0;
        }));
        return command;
    }

    private static Command Change(CliApp app)
    {
        var name = NameArgument();
        var purposes = Purposes();
        var territories = Territories();
        var start = Start();
        var end = End();
        var command = new Command("change", "Propose the scope and validity your right should have; reviewed again, in force as it was meanwhile.")
        {
            name, purposes, territories, start, end,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var change = new RightChange
            {
                Scope = Scope(parse.GetValue(purposes), parse.GetValue(territories)),
                StartTime = Time(parse.GetValue(start), "--start"),
                EndTime = Time(parse.GetValue(end), "--end"),
            };
            var right = (await client.Rights.ChangeRightAsync(new ChangeRightRequest { Name = parse.GetValue(name), Change = change },
                cancellationToken: cancellationToken)).Right;
            Print(app, parse, right);
            return 0;
        }));
        return command;
    }

    private static Command Renew(CliApp app)
    {
        var name = NameArgument();
        var end = new Option<string>("--end") { Description = "The new end (ISO 8601), later than the current one.", Required = true };
        var command = new Command("renew", "Move a right's end later (its holder; for a licence, the licensor).") { name, end };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var right = (await client.Rights.RenewRightAsync(new RenewRightRequest { Name = parse.GetValue(name), EndTime = Time(parse.GetValue(end), "--end") },
                cancellationToken: cancellationToken)).Right;
            Print(app, parse, right);
            return 0;
        }));
        return command;
    }

    private static Command Certificate(CliApp app)
    {
        var name = NameArgument();
        var output = new Option<string>("--output", "-o") { Description = "The file to write the certificate to (JSON).", Required = true };
        var command = new Command("certificate",
            "Write a right's certificate: its record, the audit events that made it, their inclusion proofs and a signed checkpoint.")
        {
            name, output,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var certificate = (await client.Rights.GetRightCertificateAsync(new GetRightCertificateRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken)).Certificate;
            var path = parse.GetValue(output)!;
            await File.WriteAllTextAsync(path, RightCertificateFile.ToJson(certificate), cancellationToken);
            app.Output.WriteLine($"{path}: {certificate.Events.Count} events, checkpoint of size {certificate.Checkpoint.Size}; " +
                $"verify it offline with `exchange rights verify {path} --verifier-key {certificate.Checkpoint.VerifierKey}`, " +
                "taking the key from a source you trust, not from the certificate");
            return 0;
        }));
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var file = new Argument<string>("certificate") { Description = "The certificate file (JSON) written by `exchange rights certificate`." };
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The log's note verifier key (name+keyid+key), from a source you trust. Default: the key stored with the certificate's " +
                "log in the trusted-logs file (audit verify and download put it there); never the key the certificate names.",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("verify", "Verify a rights certificate offline, with no call to the gateway; print the right it proves or the check that failed.")
        {
            file, key, trusted,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var certificate = RightCertificateFile.FromJson(await File.ReadAllTextAsync(parse.GetValue(file)!, cancellationToken));
            var verifier = parse.GetValue(key) is { } text ? NoteVerifierKey.Parse(text) : TrustedKey(app, parse, trusted, certificate);
            var result = RightCertificateVerifier.Verify(certificate, verifier, DateTimeOffset.UtcNow);
            if (!result.Succeeded)
            {
                await app.Error.WriteLineAsync($"verification FAILED ({result.FailedCheck.ToString().ToLowerInvariant()} check): {Render.Printable(result.Message)}");
                return 1;
            }

            await app.Output.WriteLineAsync($"OK: {Render.Printable(result.Message)}");
            var right = result.Right!.Clone();
            right.State = result.StateNow;
            Render.RightDetail(app.Output, right);
            return 0;
        }));
        return command;
    }

    /// <summary>The key stored with the trusted log the certificate's checkpoint claims to be from, found by its origin and log id.</summary>
    private static NoteVerifierKey TrustedKey(CliApp app, ParseResult parse, Option<string?> trusted, RightCertificate certificate)
    {
        var claimed = certificate.Checkpoint is { Note.Length: > 0 } checkpoint ? CheckpointNote.ParseUnverified(checkpoint.Note) : null;
        var log = claimed is null ? null : Client.Audit.TrustedLog.Find(app.TrustedStore(parse, trusted).Logs(), claimed.Origin, claimed.LogId, null);
        return log?.Key ?? throw new FormatException(
            $"no trusted log{(claimed is null ? "" : $" '{claimed.Origin}'")} to take the verifier key from; pass --verifier-key, " +
            "or trust the log first (exchange audit verify).");
    }

    private static Command Simple(CliApp app, string verb, string description, Func<Client.ExchangeClient, string, CancellationToken, Task<Right>> call)
    {
        var name = NameArgument();
        var command = new Command(verb, description) { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            Print(app, parse, await call(client, parse.GetValue(name)!, cancellationToken));
            return 0;
        }));
        return command;
    }

    private static Command WithReason(CliApp app, string verb, string description, bool required,
        Func<Client.ExchangeClient, string, string, CancellationToken, Task<Right>> call)
    {
        var name = NameArgument();
        var reason = new Option<string?>("--reason") { Description = "Why; recorded in the audit log.", Required = required };
        var command = new Command(verb, description) { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            Print(app, parse, await call(client, parse.GetValue(name)!, parse.GetValue(reason) ?? "", cancellationToken));
            return 0;
        }));
        return command;
    }

    private static void Print(CliApp app, ParseResult parse, Right right)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, right);
        }
        else
        {
            Render.RightDetail(app.Output, right);
        }
    }

    private static RightScope Scope(string[]? purposes, string[]? territories) =>
        new() { Purposes = { purposes ?? [] }, Territories = { territories ?? [] } };

    private static Timestamp? Time(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? Timestamp.FromDateTimeOffset(at)
        : throw new FormatException($"{option} '{text}' is not a time such as 2027-12-31T00:00:00Z.");

    private static async Task<RightEvidence> EvidenceAsync(string path, CancellationToken cancellationToken)
    {
        await using var document = File.OpenRead(path);
        return new RightEvidence
        {
            Sha256 = ByteString.CopyFrom(await SHA256.HashDataAsync(document, cancellationToken)),
            MediaType = MediaType(path),
            Description = Path.GetFileName(path),
        };
    }

    private static string MediaType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".pdf" => "application/pdf",
        ".json" => "application/json",
        ".txt" => "text/plain",
        ".csv" => "text/csv",
        ".xml" => "application/xml",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
}
