using System.CommandLine;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange compute budget|add-budget</c>: privacy budgets, recomputed from the audit log; a provider adds to one.</summary>
internal static class ComputeCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("compute", "Privacy budgets of grants that run queries.");
        command.Add(Budget(app));
        command.Add(AddBudget(app));
        return command;
    }

    private static Command Budget(CliApp app)
    {
        var grant = new Argument<string?>("grant") { Description = "One grant, e.g. grants/abc123; default: every grant whose events you may read.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("budget",
            "Recompute each grant's privacy budget from the audit log alone (approvals, budgets added, queries admitted) and compare "
            + "it with what the gateway says; exit 1 when they differ.")
        {
            grant,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var only = parse.GetValue(grant);
            string? dataset = null;
            if (only is not null)
            {
                dataset = (await client.Access.GetGrantAsync(new GetGrantRequest { Name = only }, cancellationToken: cancellationToken)).Grant.Dataset;
            }

            var accounts = (await client.RecomputeBudgetsAsync(dataset, cancellationToken)).Values
                .Where(a => only is null || a.Grant == only).OrderBy(a => a.Grant, StringComparer.Ordinal).ToList();
            var rows = new List<(Exchange.Client.Compute.BudgetAccount, string)>();
            var differ = 0;
            foreach (var account in accounts)
            {
                string says;
                try
                {
                    var shown = (await client.Access.GetGrantAsync(new GetGrantRequest { Name = account.Grant }, cancellationToken: cancellationToken)).Grant.ComputeBudget;
                    var agrees = shown is not null && shown.RemainingEpsilonMillis == account.RemainingMillis && shown.SpentEpsilonMillis == account.SpentMillis;
                    differ += agrees || shown is null && account.TotalMillis == 0 ? 0 : 1;
                    says = shown is null ? "no budget" : $"{Render.Epsilon(shown.RemainingEpsilonMillis)} left{(agrees ? "" : " (DIFFERS)")}";
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.PermissionDenied)
                {
                    says = "(not visible)";
                }

                rows.Add((account, says));
            }

            if (parse.GetValue(app.Json))
            {
                foreach (var account in accounts)
                {
                    app.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                    {
                        grant = account.Grant,
                        total_epsilon_millis = account.TotalMillis,
                        spent_epsilon_millis = account.SpentMillis,
                        remaining_epsilon_millis = account.RemainingMillis,
                        queries = account.Queries,
                        refused = account.Refused,
                    }));
                }
            }
            else
            {
                Render.BudgetTable(app.Output, rows);
                app.Output.WriteLine(differ == 0
                    ? $"OK: {accounts.Count} {(accounts.Count == 1 ? "budget" : "budgets")} recomputed from the log"
                    : $"MISMATCH: {differ} of {accounts.Count} budgets differ from what the gateway says");
            }

            return differ == 0 ? 0 : 1;
        }));
        return command;
    }

    private static Command AddBudget(CliApp app)
    {
        var grant = new Argument<string>("grant") { Description = "The grant, e.g. grants/abc123." };
        var epsilon = new Option<string>("--epsilon") { Description = "Epsilon to add, e.g. 0.5.", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why; recorded in the audit log.", Required = true };
        var command = new Command("add-budget", "Add privacy budget to a grant (its provider); a logged decision.") { grant, epsilon, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var millis = TermsOptions.Millis(parse.GetValue(epsilon)!, "--epsilon");
            using var client = app.Connect(parse);
            var budget = (await client.Compute.AddQueryBudgetAsync(new AddQueryBudgetRequest { Grant = parse.GetValue(grant), EpsilonMillis = millis, Reason = parse.GetValue(reason) },
                cancellationToken: cancellationToken)).Budget;
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, budget);
            }
            else
            {
                app.Output.WriteLine($"{Render.Epsilon(budget.RemainingEpsilonMillis)} of {Render.Epsilon(budget.TotalEpsilonMillis)} epsilon left");
            }

            return 0;
        }));
        return command;
    }
}
