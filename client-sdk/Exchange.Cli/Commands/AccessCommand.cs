using System.CommandLine;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange access request|list|get|approve|reject|withdraw</c>.</summary>
internal static class AccessCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("access", "Request access to datasets and decide requests.");
        command.Add(Request(app));
        command.Add(List(app));
        command.Add(Get(app));
        command.Add(Approve(app));
        command.Add(Reject(app));
        command.Add(Withdraw(app));
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The access request, e.g. accessRequests/abc123." };

    private static Command Request(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset, e.g. datasets/abc123." };
        var purpose = new Option<string>("--purpose") { Description = "What the data will be used for.", Required = true };
        var requestId = new Option<string?>("--request-id") { Description = "Makes a retried request idempotent." };
        var offer = new Option<string?>("--offer") { Description = "The offer you accept, e.g. datasets/abc123/offers/def (exchange offers list)." };
        var terms = new TermsOptions();
        var command = new Command("request", "Ask a dataset's provider for access (as a consumer).") { dataset, purpose, requestId, offer };
        terms.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Access.RequestAccessAsync(new RequestAccessRequest
            {
                Dataset = parse.GetValue(dataset),
                Purpose = parse.GetValue(purpose),
                RequestedTerms = terms.Read(parse),
                RequestId = parse.GetValue(requestId) ?? "",
                Offer = parse.GetValue(offer) ?? "",
            }, cancellationToken: cancellationToken);
            Print(app, parse, response.AccessRequest);
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var dataset = new Option<string?>("--dataset") { Description = "Only requests for this dataset." };
        var state = new Option<string?>("--state") { Description = "pending, approved, rejected or withdrawn." };
        var consumer = new Option<string?>("--consumer") { Description = "Only requests by this consumer." };
        var command = new Command("list", "List the access requests you may see: your own, or those for your datasets.") { dataset, state, consumer };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var filter = new ListAccessRequestsRequest
            {
                Dataset = parse.GetValue(dataset) ?? "",
                State = Render.ParseEnumOption<AccessRequestState>(parse.GetValue(state), "--state"),
                Consumer = parse.GetValue(consumer) ?? "",
            };
            var requests = new List<AccessRequest>();
            await foreach (var request in client.EnumerateAccessRequestsAsync(filter, cancellationToken))
            {
                requests.Add(request);
            }

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, requests);
            }
            else
            {
                Render.AccessRequestTable(app.Output, requests);
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("get", "Show one access request.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken);
            Print(app, parse, response.AccessRequest);
            return 0;
        }));
        return command;
    }

    private static Command Approve(CliApp app)
    {
        var name = NameArgument();
        var terms = new TermsOptions();
        var command = new Command("approve",
            "Approve a pending request (its dataset's provider), optionally narrowing its terms with --allow, --expires/--for, --max-transfers.")
        {
            name,
        };
        terms.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Access.ApproveAccessRequestAsync(
                new ApproveAccessRequestRequest { Name = parse.GetValue(name), Terms = terms.Read(parse) }, cancellationToken: cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, response);
            }
            else
            {
                Render.AccessRequestDetail(app.Output, response.AccessRequest);
                app.Output.WriteLine();
                Render.GrantDetail(app.Output, response.Grant);
            }

            return 0;
        }));
        return command;
    }

    private static Command Reject(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string>("--reason") { Description = "Why; the consumer and the audit log see it.", Required = true };
        var command = new Command("reject", "Reject a pending request (its dataset's provider).") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Access.RejectAccessRequestAsync(
                new RejectAccessRequestRequest { Name = parse.GetValue(name), Reason = parse.GetValue(reason) }, cancellationToken: cancellationToken);
            Print(app, parse, response.AccessRequest);
            return 0;
        }));
        return command;
    }

    private static Command Withdraw(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("withdraw", "Withdraw your pending request.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken);
            Print(app, parse, response.AccessRequest);
            return 0;
        }));
        return command;
    }

    private static void Print(CliApp app, ParseResult parse, AccessRequest request)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, request);
        }
        else
        {
            Render.AccessRequestDetail(app.Output, request);
        }
    }
}
