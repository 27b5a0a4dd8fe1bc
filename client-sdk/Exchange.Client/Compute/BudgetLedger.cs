using System.Globalization;
using Exchange.V1;

namespace Exchange.Client.Compute;

/// <summary>
/// Adds up privacy budgets from audit records: an approval that names a budget opens an account
/// (details grant, budget_epsilon_millis), a compute.budget event adds to it, an answered
/// compute.query (and one failed after admission, under privacy) spends its epsilon_millis. Nothing but the records is read, so an auditor's sum
/// does not depend on what the gateway says its balance is.
/// </summary>
public static class BudgetLedger
{
    /// <summary>The audit actions the ledger reads.</summary>
    public static readonly IReadOnlyList<string> Actions = ["access.approve", "compute.budget", "compute.query"];

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
                case "compute.query":
                    var spending = Account(accounts, record.Resource);
                    accounts[record.Resource] = record.Outcome == AuditOutcome.Success
                        ? spending with
                        {
                            SpentMillis = spending.SpentMillis + Number(details.GetValueOrDefault("epsilon_millis", "0")),
                            Queries = spending.Queries + 1,
                        }
                        : spending with
                        {
                            // A query that failed after admission under privacy spends too (its event says how much); a refused one spends nothing.
                            SpentMillis = spending.SpentMillis + (record.Outcome == AuditOutcome.Failed ? Number(details.GetValueOrDefault("epsilon_millis", "0")) : 0),
                            Refused = spending.Refused + 1,
                        };
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
