using System.CommandLine;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange grants list|get|revoke|cancel-renewal</c>.</summary>
internal static class GrantsCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("grants", "See and revoke grants, and cancel a subscription's renewal.");
        command.Add(List(app));
        command.Add(Get(app));
        command.Add(Revoke(app));
        command.Add(CancelRenewal(app));
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The grant, e.g. grants/abc123." };

    private static Command List(CliApp app)
    {
        var dataset = new Option<string?>("--dataset") { Description = "Only grants on this dataset." };
        var state = new Option<string?>("--state") { Description = "active, revoked, expired or exhausted." };
        var consumer = new Option<string?>("--consumer") { Description = "Only grants for this consumer." };
        var command = new Command("list", "List the grants you may see.") { dataset, state, consumer };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var filter = new ListGrantsRequest
            {
                Dataset = parse.GetValue(dataset) ?? "",
                State = Render.ParseEnumOption<GrantState>(parse.GetValue(state), "--state"),
                Consumer = parse.GetValue(consumer) ?? "",
            };
            var grants = new List<Grant>();
            await foreach (var grant in client.EnumerateGrantsAsync(filter, cancellationToken))
            {
                grants.Add(grant);
            }

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, grants);
            }
            else
            {
                Render.GrantTable(app.Output, grants);
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("get", "Show one grant, with its state as of now and the transfers under it.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var grant = (await client.Access.GetGrantAsync(new GetGrantRequest { Name = parse.GetValue(name) }, cancellationToken: cancellationToken)).Grant;
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, grant);
                return 0;
            }

            List<Transfer>? transfers;
            try
            {
                transfers = await client.EnumerateTransfersAsync(new ListTransfersRequest { Grant = grant.Name }, cancellationToken).ToListAsync(cancellationToken);
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode is Grpc.Core.StatusCode.PermissionDenied or Grpc.Core.StatusCode.NotFound)
            {
                transfers = null;
            }

            Render.GrantDetail(app.Output, grant, transfers);
            return 0;
        }));
        return command;
    }

    private static Command Revoke(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string>("--reason") { Description = "Why; recorded in the audit log.", Required = true };
        var command = new Command("revoke", "Revoke a grant for good (its dataset's provider or an operator).") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var grant = (await client.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = parse.GetValue(name), Reason = parse.GetValue(reason) },
                cancellationToken: cancellationToken)).Grant;
            Print(app, parse, grant);
            return 0;
        }));
        return command;
    }

    private static Command CancelRenewal(CliApp app)
    {
        var name = NameArgument();
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The audit log's note verifier key the receipt's checkpoint must be signed by (default: as for download).",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("cancel-renewal",
            "Stop an auto-renewing subscription (its consumer): the period under way is the last one charged, and the grant ends with it. "
            + "It cannot be undone. Done once the receipt for the cancellation verifies; --json prints the grant and that receipt, to keep.")
        {
            name, key, trusted,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var store = app.TrustedStore(parse, trusted);
            var pinned = parse.GetValue(key) is { } text ? NoteVerifierKey.Parse(text) : null;
            using var client = app.Connect(parse, options =>
            {
                options.AuditLogKey = pinned;
                options.TrustedCheckpoints = store;
            });
            var cancelled = await client.CancelGrantRenewalAsync(parse.GetValue(name)!, cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, new CancelGrantRenewalResponse { Grant = cancelled.Grant, Receipt = cancelled.Receipt });
            }
            else
            {
                Print(app, parse, cancelled.Grant);
                app.Output.WriteLine($"receipt: audit event {cancelled.Receipt.Event.Index} (verified)");
            }

            return 0;
        }));
        return command;
    }

    private static void Print(CliApp app, ParseResult parse, Grant grant)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, grant);
        }
        else
        {
            Render.GrantDetail(app.Output, grant);
        }
    }
}
