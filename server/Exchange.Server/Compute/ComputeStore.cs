using System.Data.Common;
using System.Globalization;
using Exchange.Server.Access;
using Exchange.Server.Access.Model;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Compute.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Compute;

/// <summary>
/// Queries and privacy budgets in the database. A query is decided in one unit of work (the
/// caller, the grant, the rule, the budget left) which, under differential privacy, also spends its
/// epsilon and records that in a <c>compute.admit</c> event: units of work run one at a time, so the
/// budget's debits never add up to more than it, and whatever becomes of the query afterwards
/// (answered, failed, abandoned, or the gateway stopped) the epsilon stays spent. The query runs
/// outside any unit and is recorded in a second, which checks the grant again; no answer goes out
/// without its event. Refusals are recorded in the unit that decides them.
/// </summary>
internal sealed class ComputeStore(Database database, IGrants grants, IRevisions revisions, IMeter meter) : IQueryBudgets
{
    /// <summary>The longest query (as sent) a refused query's event keeps.</summary>
    private const int MaxLoggedSql = 1024;

    /// <summary>The most groups a private query may form (by the quality report), each noised before the threshold.</summary>
    private const int MaxPrivateGroups = 1_000_000;

    /// <summary>The longest query, as printed from its tree, that may run (its event keeps it whole).</summary>
    private const int MaxQueryText = 8192;

    /// <summary>
    /// Decides whether the query <paramref name="ask"/> carries may run under <paramref name="grantId"/>
    /// on <paramref name="revisionId"/> (null: the dataset's latest revision); <paramref name="busy"/>,
    /// when set, refuses it (and is logged) once the caller has been shown to be the grant's consumer.
    /// </summary>
    public Task<Decision<Admission>> AdmitAsync(Caller caller, GrantId grantId, RevisionId? revisionId, QueryAsk ask, Refusal? busy,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Admission>>(unit =>
        {
            var grant = Visible(unit, caller, grantId);
            var logged = ask.Sent.Length <= MaxLoggedSql ? ask.Sent : ask.Sent[..MaxLoggedSql] + "…";
            var entry = Entry(caller, grant, Outcome.Denied, new() { [ask.Form] = logged });
            if (ComputePolicy.Denial(caller, grant) is { } denial)
            {
                return unit.Deny(entry, denial);
            }

            var rule = grant.Terms.Analysis!;
            var number = revisionId is { } wanted ? (wanted.Dataset == grant.Dataset ? wanted.Number : -1) : revisions.Latest(unit, grant.Dataset);
            var stored = number == 0 ? null : revisions.Find(unit, new RevisionId(grant.Dataset, number));
            if (stored is null)
            {
                // Refused like any query the grant cannot answer, and logged so; answered NOT_FOUND, as a missing revision is.
                var missing = Refusal.NotVisible(revisionId?.Name ?? grant.Dataset.Name);
                unit.Record(entry with { Details = Details(entry, ("reason", revisionId is null ? "the dataset has no revision" : $"no revision {revisionId.Value.Name} of the grant's dataset")) });
                return new Admission(grant, null, null, logged, missing);
            }
            try
            {
                if (busy is not null)
                {
                    throw busy;
                }

                var table = stored.Revision.Table
                    ?? throw Refusal.Precondition($"{stored.Revision.Id.Name} is not a table; queries run over tables.");
                var columns = V1.Schema.Parser.ParseFrom(table.Schema).Columns;
                try
                {
                    // Checked at approval against the latest table; this revision may be another.
                    Tables.AnalysisRuleValidation.Validate(rule, columns, "the grant's analysis rule");
                }
                catch (Refusal misfit)
                {
                    throw Refusal.Precondition($"{stored.Revision.Id.Name} does not fit {misfit.Message.TrimEnd('.')}; query a revision that has the rule's columns.");
                }

                var query = AnalysisPolicy.Check(ask.Parse(), rule, columns);
                if (rule.Privacy is not null && query.GroupBy.Count > 0)
                {
                    PrivateGroupBound(query, table.Report);
                }

                var text = QueryText.Print(query);
                if (text.Length > MaxQueryText)
                {
                    // Its event keeps the query whole: a query may not bloat the log.
                    throw Refusal.Invalid($"The query is {text.Length} characters long as printed, more than the {MaxQueryText} a query may be; ask for less at once.");
                }

                if (rule.Privacy is not { } privacy)
                {
                    return new Admission(grant, stored, query, text);
                }

                var budget = BudgetOf(unit.Connection, unit.Transaction, grant.Id, privacy);
                if (budget.RemainingMillis < privacy.QueryEpsilonMillis)
                {
                    throw Refusal.Precondition(Exhausted(grant, budget, privacy));
                }

                // Spent now, with the check, and never given back: whether a query later fails (out of
                // memory, say) can depend on the data, so a failure must cost what an answer does.
                Account(unit, grant.Id, privacy.QueryEpsilonMillis, answered: 0);
                var admitted = unit.Record(Entry(caller, grant, Outcome.Success, new()
                {
                    ["query"] = text,
                    ["revision"] = stored.Revision.Id.Name,
                    ["rule_version"] = Tables.AnalysisRules.Version(rule),
                    ["epsilon_millis"] = privacy.QueryEpsilonMillis.ToString(CultureInfo.InvariantCulture),
                }, AuditActions.ComputeAdmit));
                return new Admission(grant, stored, query, text, SpentMillis: privacy.QueryEpsilonMillis, AdmitEvent: admitted);
            }
            catch (Refusal refusal) when (refusal.Kind is not RefusalKind.NotFound)
            {
                // The query is refused, not the caller: recorded as a denied query with why, then answered as what it is.
                unit.Record(entry with { Details = Details(entry, ("reason", refusal.Message), ("revision", stored.Revision.Id.Name)) });
                return new Admission(grant, stored, null, logged, refusal);
            }
        }, cancellationToken);

    /// <summary>
    /// Records an answered query once the grant still allows it; otherwise records the refusal (the
    /// answer is then never sent). Its epsilon was spent on admission and stays spent either way.
    /// </summary>
    public Task<Decision<QueryRecord>> RecordAsync(Caller caller, Admission admitted, QueryAnswer answer, string requestSha256, string resultSha256,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<QueryRecord>>(unit =>
        {
            var grant = grants.Find(unit, admitted.Grant!.Id)!;
            var entry = Entry(caller, grant, Outcome.Denied, Ran(admitted));
            if (ComputePolicy.Denial(caller, grant) is { } denial)
            {
                // Revoked or expired while the query ran.
                return unit.Deny(entry, denial);
            }

            var rule = grant.Terms.Analysis!;
            QueryBudget? after = null;
            if (rule.Privacy is { } privacy)
            {
                Account(unit, grant.Id, 0, answered: 1);
                after = BudgetOf(unit.Connection, unit.Transaction, grant.Id, privacy);
            }

            var index = unit.Record(entry with
            {
                Outcome = Outcome.Success,
                Details = Details(entry,
                    ("rule_version", Tables.AnalysisRules.Version(rule)),
                    // The consumer holds this event as its receipt: what the answer does not tell, neither does the log.
                    ("suppressed_rows", answer.Suppressed?.ToString(CultureInfo.InvariantCulture)),
                    ("rows", answer.Rows.Count.ToString(CultureInfo.InvariantCulture)),
                    ("request_sha256", requestSha256),
                    ("result_sha256", resultSha256)),
            });
            meter.QueryAnswered(unit, grant, index);
            return new QueryRecord(index, admitted.SpentMillis, after);
        }, cancellationToken);

    /// <summary>
    /// Records that an admitted query ended without an answer (it failed in the engine, or its caller
    /// went): nothing was answered, but the query is in the log. Under privacy its epsilon stays spent
    /// (by its <c>compute.admit</c> event): a failure that cost nothing could be asked again and again.
    /// </summary>
    public Task RecordFailureAsync(Caller caller, Admission admitted, string why) =>
        database.WriteAsync(unit =>
        {
            var grant = grants.Find(unit, admitted.Grant!.Id)!;
            var details = Ran(admitted);
            details["reason"] = admitted.AdmitEvent is null
                ? $"{why}; nothing was answered"
                : $"{why}; nothing was answered, and the epsilon it spent on admission stays spent";
            return unit.Record(Entry(caller, grant, Outcome.Failed, details));
        }, CancellationToken.None);

    /// <summary>The details every event of an admitted query carries: what ran, on which revision, and the event that spent its epsilon.</summary>
    private static Dictionary<string, string> Ran(Admission admitted)
    {
        var details = new Dictionary<string, string> { ["query"] = admitted.Text, ["revision"] = admitted.Revision!.Revision.Id.Name };
        if (admitted.AdmitEvent is { } admit)
        {
            details["admission"] = admit.ToString(CultureInfo.InvariantCulture);
        }

        return details;
    }

    /// <summary>
    /// Under privacy every group is noised before any is left out, so a query's work follows the
    /// groups it may form. Bounded by the revision's published quality report (distinct values, and a
    /// null, per dimension), which anyone who may see the dataset reads: refusing on it tells nothing new.
    /// </summary>
    private static void PrivateGroupBound(Query query, V1.QualityReport report)
    {
        var bound = 1.0;
        foreach (var dimension in query.GroupBy)
        {
            var column = report.Columns.FirstOrDefault(c => c.Name == dimension);
            bound *= column is null ? double.PositiveInfinity : column.DistinctEstimate + (column.NullCount > 0 ? 1 : 0);
        }

        if (bound > MaxPrivateGroups)
        {
            throw Refusal.Invalid(
                $"Under differential privacy, GROUP BY {string.Join(", ", query.GroupBy)} may form about {bound:0} groups by the revision's quality report, " +
                $"more than the {MaxPrivateGroups} a private query may; group on fewer or coarser dimensions.");
        }
    }

    /// <summary>Adds <paramref name="epsilonMillis"/> to the budget of a grant whose rule has differential privacy (its provider).</summary>
    public Task<Decision<QueryBudget>> AddBudgetAsync(Caller caller, GrantId grantId, long epsilonMillis, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<QueryBudget>>(unit =>
        {
            var grant = Visible(unit, caller, grantId);
            var entry = new AuditEntry(caller.Participant, AuditActions.ComputeBudget, grant.Id.Name, Outcome.Denied, Dataset: grant.Dataset.Name,
                Subject: grant.Consumer, DatasetProvider: grant.Provider,
                Details: new Dictionary<string, string> { ["epsilon_millis"] = epsilonMillis.ToString(CultureInfo.InvariantCulture) });
            if (!(caller.IsProvider && caller.Participant == grant.Provider))
            {
                return unit.Deny(entry, $"Only {grant.Provider}, the provider of '{grant.Id.Name}', may add to its privacy budget.");
            }

            if (grant.State is GrantState.Revoked or GrantState.Expired)
            {
                // Refused and logged like a query under it: both parties see the attempt in their share of the log.
                return unit.Deny(entry, $"'{grant.Id.Name}' is {grant.State.ToString().ToLowerInvariant()}; a budget would allow nothing.");
            }

            var privacy = grant.Terms.Analysis?.Privacy
                ?? throw Refusal.Precondition($"'{grant.Id.Name}' has no differential privacy, so no budget: its queries are held to thresholds only.");
            unit.Command("""
                INSERT INTO compute_budgets (grant_id, added_millis) VALUES (@grant, @added)
                ON CONFLICT (grant_id) DO UPDATE SET added_millis = compute_budgets.added_millis + @added
                """).With("@grant", grant.Id.Value).With("@added", epsilonMillis).ExecuteNonQuery();
            var budget = BudgetOf(unit.Connection, unit.Transaction, grant.Id, privacy);
            unit.Record(entry with
            {
                Outcome = Outcome.Success,
                Details = Details(entry, ("reason", reason), ("total_epsilon_millis", budget.TotalMillis.ToString(CultureInfo.InvariantCulture))),
            });
            return budget;
        }, cancellationToken);

    public Task<IReadOnlyDictionary<GrantId, QueryBudget>> BudgetsAsync(IReadOnlyList<Grant> grants, CancellationToken cancellationToken)
    {
        var withPrivacy = grants.Where(g => g.Terms.Analysis?.Privacy is not null).DistinctBy(g => g.Id).ToList();
        if (withPrivacy.Count == 0)
        {
            return Task.FromResult<IReadOnlyDictionary<GrantId, QueryBudget>>(new Dictionary<GrantId, QueryBudget>());
        }

        return database.ReadAsync<IReadOnlyDictionary<GrantId, QueryBudget>>((connection, _) =>
        {
            using var command = connection.Command(
                $"SELECT grant_id, added_millis, spent_millis, queries FROM compute_budgets WHERE grant_id IN ({string.Join(", ", withPrivacy.Select((_, i) => $"@g{i}"))})",
                null);
            for (var i = 0; i < withPrivacy.Count; i++)
            {
                command.With($"@g{i}", withPrivacy[i].Id.Value);
            }

            var kept = new Dictionary<string, (long Added, long Spent, long Queries)>(StringComparer.Ordinal);
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    kept[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
                }
            }

            // A grant no query or top-up has touched yet has no row: its budget is its rule's, unspent.
            return Task.FromResult<IReadOnlyDictionary<GrantId, QueryBudget>>(withPrivacy.ToDictionary(g => g.Id, g =>
            {
                var initial = g.Terms.Analysis!.Privacy!.BudgetEpsilonMillis;
                return kept.TryGetValue(g.Id.Value, out var row) ? new QueryBudget(initial + row.Added, row.Spent, row.Queries) : new QueryBudget(initial, 0, 0);
            }));
        }, cancellationToken);
    }

    private Grant Visible(WriteUnit unit, Caller caller, GrantId grantId)
    {
        var grant = grants.Find(unit, grantId);
        return grant is not null && AccessPolicy.CanSee(caller, grant) ? grant : throw Refusal.NotFound(grantId.Name, exists: grant is not null);
    }

    /// <summary>Adds to the running totals kept beside the log: epsilon spent (on admission) and queries answered.</summary>
    private static void Account(WriteUnit unit, GrantId grant, long spentMillis, int answered) =>
        unit.Command("""
            INSERT INTO compute_budgets (grant_id, spent_millis, queries) VALUES (@grant, @spent, @answered)
            ON CONFLICT (grant_id) DO UPDATE SET spent_millis = compute_budgets.spent_millis + @spent, queries = compute_budgets.queries + @answered
            """).With("@grant", grant.Value).With("@spent", spentMillis).With("@answered", answered).ExecuteNonQuery();

    private static QueryBudget BudgetOf(DbConnection connection, DbTransaction? transaction, GrantId grant, V1.DifferentialPrivacy privacy)
    {
        using var command = connection.Command("SELECT added_millis, spent_millis, queries FROM compute_budgets WHERE grant_id = @grant", transaction)
            .With("@grant", grant.Value);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new QueryBudget(privacy.BudgetEpsilonMillis + reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2))
            : new QueryBudget(privacy.BudgetEpsilonMillis, 0, 0);
    }

    private static string Exhausted(Grant grant, QueryBudget budget, V1.DifferentialPrivacy privacy) =>
        $"The privacy budget of '{grant.Id.Name}' does not cover another query: {Tables.AnalysisRules.Epsilon(budget.RemainingMillis)} of epsilon remains, " +
        $"a query spends {Tables.AnalysisRules.Epsilon(privacy.QueryEpsilonMillis)}. The budget never refreshes by itself; its provider may add to it.";

    private static AuditEntry Entry(Caller caller, Grant grant, Outcome outcome, Dictionary<string, string> details,
        string action = AuditActions.ComputeQuery)
    {
        details["grant"] = grant.Id.Name;
        return new AuditEntry(caller.Participant, action, grant.Id.Name, outcome, Dataset: grant.Dataset.Name,
            Subject: grant.Consumer, DatasetProvider: grant.Provider, Details: details);
    }

    /// <summary>The entry's details and <paramref name="more"/> (a null value is left out).</summary>
    private static Dictionary<string, string> Details(AuditEntry entry, params (string Key, string? Value)[] more)
    {
        var details = new Dictionary<string, string>(entry.Details!);
        foreach (var (key, value) in more)
        {
            if (value is not null)
            {
                details[key] = value;
            }
        }

        return details;
    }
}
