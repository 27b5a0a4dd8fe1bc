using System.CommandLine;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange transfers list|get</c>: the downloads you took part in, with their grant and state.</summary>
internal static class TransfersCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("transfers", "See transfers (downloads) under the grants you may see.");
        command.Add(List(app));
        command.Add(Get(app));
        return command;
    }

    private static Command List(CliApp app)
    {
        var grant = new Option<string?>("--grant") { Description = "Only transfers under this grant (grants/…)." };
        var dataset = new Option<string?>("--dataset") { Description = "Only transfers of this dataset (datasets/…)." };
        var state = new Option<string?>("--state") { Description = "started, completed, failed or denied." };
        var limit = new Option<int>("--limit") { Description = "Print at most this many transfers (0 = all).", DefaultValueFactory = _ => 100 };
        var command = new Command("list", "List the transfers you may see, with their grant and state.") { grant, dataset, state, limit };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var filter = new ListTransfersRequest
            {
                Grant = parse.GetValue(grant) ?? "",
                Dataset = parse.GetValue(dataset) ?? "",
                State = Render.ParseEnumOption<TransferState>(parse.GetValue(state), "--state"),
            };
            using var client = app.Connect(parse);
            var transfers = await client.EnumerateTransfersAsync(filter, cancellationToken).AtMost(parse.GetValue(limit)).ToListAsync(cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, transfers);
            }
            else
            {
                Render.TransferTable(app.Output, transfers);
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var name = new Argument<string>("name") { Description = "The transfer, e.g. transfers/abc123." };
        var command = new Command("get", "Show one transfer.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var transfer = (await client.Transfers.GetTransferAsync(new GetTransferRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken)).Transfer;
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, transfer);
            }
            else
            {
                Render.TransferDetail(app.Output, transfer);
            }

            return 0;
        }));
        return command;
    }
}
