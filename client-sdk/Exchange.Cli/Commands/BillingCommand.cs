using System.CommandLine;
using Exchange.V1;
using Microsoft.IdentityModel.JsonWebTokens;
using Spectre.Console;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange billing statement|verify|period|close|settlements|paid</c>: what a participant pays and earns, checked against the log; an operator settles.</summary>
internal static class BillingCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("billing", "Statements of what you pay and earn, verified against your receipts and the log; periods and their settlement.");
        command.Add(Statement(app));
        command.Add(Verify(app));
        command.Add(Period(app));
        command.Add(Close(app));
        command.Add(Settlements(app));
        command.Add(Paid(app));
        command.Add(Reverse(app));
        return command;
    }

    private static Option<string> PeriodOption() => new("--period") { Description = "The month, e.g. 2026-12 (UTC).", Required = true };

    private static Option<string?> ParticipantOption() =>
        new("--participant") { Description = "Whose statement (auditors and operators); default: the token's own participant." };

    private static Command Statement(CliApp app)
    {
        var period = PeriodOption();
        var participant = ParticipantOption();
        var command = new Command("statement", "Every charge you pay and earn in a period, each with its usage record, receipt and log index.") { period, participant };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var whole = await client.GetStatementAsync(Participant(app, parse, participant), parse.GetValue(period)!, cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, whole);
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "USAGE", "ROLE", "GRANT", "UNITS", "AMOUNT", "FEE", "RECEIPT", "EVENT", "CHARGE", "NOTE" })
            {
                table.AddColumn(column);
            }

            foreach (var line in whole.Lines)
            {
                var u = line.Usage;
                table.AddRow(Cell(u.Name), Cell(line.Role == StatementRole.Consumer ? "pays" : "earns"), Cell(u.Grant), Cell(Units(u)),
                    Cell($"{u.Amount.AmountMinor} {u.Amount.Currency}"), Cell(u.FeeMinor.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Cell(u.Resource), Cell(u.EventIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Cell(u.ChargeIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Cell(line.Adjustment ? $"adjustment: usage of {u.UsagePeriod}" : ""));
            }

            app.Output.WriteLine($"{whole.Name}  ({Render.EnumName(whole.PeriodState)})");
            Render.Write(app.Output, table);
            foreach (var total in whole.Totals)
            {
                app.Output.WriteLine($"{total.Currency}: pays {total.ChargesMinor}, earns {total.EarningsMinor} after {total.FeesMinor} in fees, net {total.NetMinor} (minor units)");
            }

            app.Output.WriteLine(whole.LineCount == 1 ? "1 line" : $"{whole.LineCount} lines");
            return 0;
        }));
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var period = PeriodOption();
        var participant = ParticipantOption();
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The audit log's note verifier key (name+keyid+key) the checkpoint must be signed by. Default: the one stored with " +
                "the log's trusted checkpoint, or, for a log never seen, the key the gateway publishes.",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("verify",
            "Recompute a statement from the log and your receipts: every line must follow from its event and the offer your grant accepted, " +
            "every priced receipt must be charged once, and every event must be in the signed log. Exit 1 on any difference.")
        {
            period, participant, key, trusted,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var store = app.TrustedStore(parse, trusted);
            using var client = app.Connect(parse, options =>
            {
                options.AuditLogKey = parse.GetValue(key) is { } text ? Exchange.Transparency.NoteVerifierKey.Parse(text) : null;
                options.TrustedCheckpoints = store;
            });
            var who = Participant(app, parse, participant);
            var result = await client.VerifyStatementAsync(who, parse.GetValue(period)!, cancellationToken);
            foreach (var difference in result.Differences)
            {
                await app.Error.WriteLineAsync($"DIFFERS: {Render.Printable(difference)}");
            }

            app.Output.WriteLine(result.Succeeded
                ? $"OK: {result.Statement.Name}: {result.Statement.Lines.Count} line(s) match the log; {result.ChargesRecomputed} charge(s) recomputed from their " +
                    $"events and offers, {result.ReceiptsChecked} receipt(s) checked, all in the checkpoint of size {result.CheckpointSize}"
                : $"FAILED: {result.Statement.Name}: {result.Differences.Count} difference(s)");
            return result.Succeeded ? 0 : 1;
        }));
        return command;
    }

    private static Command Period(CliApp app)
    {
        var period = PeriodOption();
        var command = new Command("period", "Whether a period is open or closed, and when it closes by itself.") { period };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var found = (await client.Billing.GetBillingPeriodAsync(new GetBillingPeriodRequest { Name = $"billingPeriods/{parse.GetValue(period)}" },
                cancellationToken: cancellationToken)).Period;
            PrintPeriod(app, parse, found, []);
            return 0;
        }));
        return command;
    }

    private static Command Close(CliApp app)
    {
        var period = PeriodOption();
        var command = new Command("close", "Close a period before its cut-off (operators) and show its settlement instructions.") { period };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var closed = await client.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = $"billingPeriods/{parse.GetValue(period)}" },
                cancellationToken: cancellationToken);
            PrintPeriod(app, parse, closed.Period, closed.Settlements);
            return 0;
        }));
        return command;
    }

    private static Command Settlements(CliApp app)
    {
        var period = PeriodOption();
        var command = new Command("settlements", "A closed period's settlement instructions: who pays whom (the exchange clears).") { period };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var all = new List<Settlement>();
            await foreach (var settlement in client.EnumerateSettlementsAsync($"billingPeriods/{parse.GetValue(period)}", cancellationToken))
            {
                all.Add(settlement);
            }

            if (parse.GetValue(app.Json))
            {
                var response = new ListSettlementsResponse();
                response.Settlements.Add(all);
                Render.Json(app.Output, response);
                return 0;
            }

            SettlementTable(app, all);
            return 0;
        }));
        return command;
    }

    private static Command Paid(CliApp app)
    {
        var name = new Argument<string>("settlement") { Description = "The settlement, e.g. billingPeriods/2026-12/settlements/1." };
        var reference = new Option<string>("--reference") { Description = "The payment's reference where the money moved.", Required = true };
        var command = new Command("paid", "Record a settlement as paid (operators); logged. No money moves through the exchange.") { name, reference };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var paid = (await client.Billing.MarkSettlementPaidAsync(new MarkSettlementPaidRequest
            {
                Name = parse.GetValue(name),
                PaymentReference = parse.GetValue(reference),
            }, cancellationToken: cancellationToken)).Settlement;
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, paid);
                return 0;
            }

            SettlementTable(app, [paid]);
            return 0;
        }));
        return command;
    }

    private static Command Reverse(CliApp app)
    {
        var name = new Argument<string>("usage") { Description = "The usage record, e.g. usageRecords/transfer-abc123 (statements name them)." };
        var reason = new Option<string>("--reason") { Description = "Why: both parties read it, and the log keeps it.", Required = true };
        var command = new Command("reverse", "Reverse a charge (operators): a new record with the opposite amounts; the charge itself never changes.") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var reversal = (await client.Billing.ReverseChargeAsync(new ReverseChargeRequest
            {
                Name = parse.GetValue(name),
                Reason = parse.GetValue(reason),
            }, cancellationToken: cancellationToken)).Reversal;
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, reversal);
                return 0;
            }

            app.Output.WriteLine($"{reversal.Name}: {reversal.Amount.AmountMinor} {reversal.Amount.Currency} ({Units(reversal)}), counted in {reversal.Period}");
            return 0;
        }));
        return command;
    }

    private static void PrintPeriod(CliApp app, System.CommandLine.ParseResult parse, BillingPeriod period, IReadOnlyCollection<Settlement> settlements)
    {
        if (parse.GetValue(app.Json))
        {
            var response = new CloseBillingPeriodResponse { Period = period };
            response.Settlements.Add(settlements);
            Render.Json(app.Output, response);
            return;
        }

        app.Output.WriteLine($"{period.Name}  {Render.EnumName(period.State)}" + (period.State == BillingPeriodState.Closed
            ? $", closed {period.CloseTime.ToDateTimeOffset():u} by {Render.Printable(period.ClosedBy)} (audit event {period.CloseIndex})"
            : $", closes by itself at {period.CutoffTime.ToDateTimeOffset():u}"));
        if (settlements.Count > 0)
        {
            SettlementTable(app, settlements);
        }
    }

    private static void SettlementTable(CliApp app, IReadOnlyCollection<Settlement> settlements)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "SETTLEMENT", "PAYER", "PAYEE", "AMOUNT", "STATE", "REFERENCE" })
        {
            table.AddColumn(column);
        }

        foreach (var s in settlements)
        {
            table.AddRow(Cell(s.Name), Cell(s.Payer), Cell(s.Payee), Cell($"{s.Amount.AmountMinor} {s.Amount.Currency}"), Cell(Render.EnumName(s.State)),
                Cell(s.PaymentReference));
        }

        Render.Write(app.Output, table);
        app.Output.WriteLine(settlements.Count == 1 ? "1 settlement" : $"{settlements.Count} settlements");
    }

    private static string Units(UsageRecord usage) => usage.Kind switch
    {
        OfferKind.PerGib => $"{usage.Units} bytes",
        OfferKind.PerTransfer => $"{usage.Units} transfer(s)",
        OfferKind.PerQuery => $"{usage.Units} query",
        OfferKind.Subscription => "1 period",
        _ => "1 grant",
    };

    private static Text Cell(string text) => new(Render.Printable(text));

    /// <summary>The participant named, or the one the token speaks for (its subject, read without checking it: the gateway checks it).</summary>
    private static string Participant(CliApp app, System.CommandLine.ParseResult parse, Option<string?> participant) =>
        parse.GetValue(participant) is { Length: > 0 } named
            ? named
            : parse.GetValue(app.Token) is { Length: > 0 } token && new JsonWebTokenHandler().CanReadToken(token)
                ? new JsonWebToken(token).Subject
                : throw new ArgumentException("--participant is required when the token is not a JWT the CLI can read.");
}
