using System.Globalization;
using Exchange.V1;

namespace Exchange.Client.Compute;

/// <summary>
/// Adds up privacy budgets from audit records: an approval that names a budget opens an account
/// (details grant, budget_epsilon_millis), a compute.budget event adds to it, and a compute.admit
/// event (a query admitted under privacy) spends its epsilon_millis, whatever became of the query
/// after. Nothing but the records is read, so an auditor's sum does not depend on what the gateway
/// says its balance is.
/// </summary>
public static class BudgetLedger
{
    /// <summary>The audit actions the ledger reads.</summary>
    public static readonly IReadOnlyList<string> Actions = ["access.approve", "compute.budget", "compute.admit", "compute.query"];

    /// <summary>Every grant's account in <paramref name="records"/> (decoded from the leaves), by grant name.</summary>
    public static IReadOnlyDictionary<string, BudgetAccount> Accounts(IEnumerable<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var accounts = new Dictionary<string, BudgetAccount>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var details = record.Details.GroupBy(d => d.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
            switch (record.Action)
            {
                case "access.approve" when record.Outcome == AuditOutcome.Success && details.TryGetValue("grant", out var grant)
                    && details.TryGetValue("budget_epsilon_millis", out var initial):
                    accounts[grant] = Account(accounts, grant) with { InitialMillis = Number(initial) };
                    break;
                case "compute.budget" when record.Outcome == AuditOutcome.Success:
                    var topped = Account(accounts, record.Resource);
                    accounts[record.Resource] = topped with { AddedMillis = topped.AddedMillis + Number(details.GetValueOrDefault("epsilon_millis", "0")) };
                    break;
                case "compute.admit" when record.Outcome == AuditOutcome.Success:
                    var admitted = Account(accounts, record.Resource);
                    accounts[record.Resource] = admitted with { SpentMillis = admitted.SpentMillis + Number(details.GetValueOrDefault("epsilon_millis", "0")) };
                    break;
                case "compute.query":
                    var query = Account(accounts, record.Resource);
                    // Logs written before queries spent on admission carry the spend here, on an answered or failed query; later ones never do.
                    var spent = record.Outcome == AuditOutcome.Denied ? 0 : Number(details.GetValueOrDefault("epsilon_millis", "0"));
                    accounts[record.Resource] = record.Outcome == AuditOutcome.Success
                        ? query with { SpentMillis = query.SpentMillis + spent, Queries = query.Queries + 1 }
                        : query with { SpentMillis = query.SpentMillis + spent, Refused = query.Refused + 1 };
                    break;
            }
        }

        return accounts;
    }

    private static BudgetAccount Account(Dictionary<string, BudgetAccount> accounts, string grant) =>
        accounts.TryGetValue(grant, out var account) ? account : new BudgetAccount(grant, 0, 0, 0, 0, 0);

    private static long Number(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"an audit record holds '{text}' where a number of thousandths of epsilon belongs");
}
