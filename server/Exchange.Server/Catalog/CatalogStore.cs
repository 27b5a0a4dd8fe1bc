using System.Data.Common;
using System.Globalization;
using Exchange.Server.Audit;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// Datasets and revisions in the embedded database: the catalog's operations, each one unit of
/// work that checks <see cref="DatasetPolicy"/>, writes and records together, and its reads.
/// </summary>
internal sealed class CatalogStore(Database database, IRevisions revisions, IRightsGate rights) : ICatalog
{
    // Repeated reads until the next write: a dataset as one viewer finds it, and list pages.
    private readonly ReadCache<(DatasetId Id, string Viewer), DatasetRow?> _rows = new(database, capacity: 16_384);
    private readonly ReadCache<(DatasetQuery Query, string Participant, bool ReadsEverything, long After, int PageSize),
        (IReadOnlyList<Dataset> Page, long? Next)> _pages = new(database, capacity: 4_096);

    private const string DatasetColumns = """
        d.seq, d.id, d.provider, d.title, d.description, d.classification, d.state, d.auto_approval,
        d.latest_revision, d.create_time, d.update_time,
        (SELECT string_agg(dt.tag, ',' ORDER BY dt.position) FROM dataset_tags dt WHERE dt.dataset_seq = d.seq),
        d.delist_reason, d.lineage_status, d.lineage_reason
        """;


    /// <summary>
    /// Stores a new DRAFT dataset owned by <paramref name="caller"/> and records it, or records and
    /// returns the denial of a caller who may not create datasets (<paramref name="draft"/> is then
    /// not looked at: such a caller is refused whatever it sent). With a request id, a retry
    /// returns the dataset the first call created (and records nothing).
    /// </summary>
    public Task<Decision<Dataset>> CreateAsync(Caller caller, DatasetFields? draft, string requestId, byte[] fingerprint,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Dataset>>(unit =>
        {
            var provider = caller.Participant;
            if (!DatasetPolicy.CanCreate(caller))
            {
                return unit.Deny(new AuditEntry(provider, AuditActions.DatasetCreate, "datasets", Outcome.Denied),
                    "Only participants with the 'provider' role may create datasets.");
            }

            ArgumentNullException.ThrowIfNull(draft);
            if (draft.AutoApprovalTerms?.View is not null)
            {
                throw Refusal.Precondition("dataset.auto_approval_terms.view: a view delivers part of a table; set it once a table is uploaded.");
            }

            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, provider, "CreateDataset", requestId, fingerprint) is { } existing)
            {
                return Find(unit, DatasetId.FromName(existing))!.Dataset;
            }

            var id = DatasetId.New();
            var micros = Timestamps.ToMicros(unit.Now);
            var seq = (long)unit.Command("""
                INSERT INTO datasets (id, provider, title, description, classification, state, auto_approval, create_time, update_time)
                VALUES (@id, @provider, @title, @description, @classification, @state, @auto, @now, @now)
                RETURNING seq
                """)
                .With("@id", id.Value)
                .With("@provider", provider)
                .With("@title", draft.Title)
                .With("@description", draft.Description)
                .With("@classification", (int)draft.Classification)
                .With("@state", (int)DatasetState.Draft)
                .With("@auto", draft.AutoApprovalTerms is { } terms ? TermsMapping.Encode(terms) : null)
                .With("@now", micros)
                .ExecuteScalar()!;
            WriteTags(unit, seq, draft.Tags);

            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(unit.Connection, unit.Transaction, provider, "CreateDataset", requestId, fingerprint, id.Name, micros);
            }

            unit.Record(new AuditEntry(provider, AuditActions.DatasetCreate, id.Name, Outcome.Success,
                Dataset: id.Name, DatasetProvider: provider,
                Details: new Dictionary<string, string> { ["title"] = draft.Title, ["classification"] = ContractName(draft.Classification) }));
            return Find(unit, id)!.Dataset;
        }, cancellationToken);

    /// <summary>
    /// Changes the fields named by <paramref name="paths"/> to those of <paramref name="fields"/>,
    /// if <paramref name="caller"/> may edit the dataset; records the change with the fields named.
    /// </summary>
    public Task<Decision<Dataset>> UpdateAsync(Caller caller, DatasetId id, DatasetFields fields, IReadOnlyList<string> paths,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Dataset>>(unit =>
        {
            var row = FindForChange(unit, id, caller);
            if (!DatasetPolicy.CanEdit(caller, row.Dataset))
            {
                return unit.Deny(Entry(caller, AuditActions.DatasetUpdate, row.Dataset, Outcome.Denied),
                    $"Only the provider of '{id.Name}' may update it.");
            }

            var changed = paths.Aggregate(row.Dataset, (dataset, path) => Apply(path, fields, dataset));
            if (changed.AutoApprovalTerms?.View is { } view && paths.Contains("auto_approval_terms"))
            {
                Tables.ViewValidation.ValidateFor(view, revisions.LatestColumns(unit, id), id.Name, "dataset.auto_approval_terms.view");
            }

            if (changed.AutoApprovalTerms?.Analysis is { } rule && paths.Contains("auto_approval_terms"))
            {
                Tables.AnalysisRuleValidation.ValidateFor(rule, revisions.LatestColumns(unit, id), id.Name, "dataset.auto_approval_terms.analysis");
            }

            return Save(unit, caller, AuditActions.DatasetUpdate, row, changed,
                new Dictionary<string, string> { ["fields"] = string.Join(",", paths) });
        }, cancellationToken);

    /// <summary>Lists the dataset, if <paramref name="caller"/> may edit it and it has a revision.</summary>
    public Task<Decision<Dataset>> PublishAsync(Caller caller, DatasetId id, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Dataset>>(unit =>
        {
            var row = FindForChange(unit, id, caller);
            var dataset = row.Dataset;
            if (!DatasetPolicy.CanEdit(caller, dataset))
            {
                return unit.Deny(Entry(caller, AuditActions.DatasetPublish, dataset, Outcome.Denied),
                    $"Only the provider of '{id.Name}' may publish it.");
            }

            if (dataset.State == DatasetState.Listed)
            {
                throw Refusal.Precondition($"'{id.Name}' is already listed.");
            }

            if (dataset.LatestRevision == 0)
            {
                throw Refusal.Precondition($"'{id.Name}' has no revision yet; upload one before publishing it.");
            }

            if (rights.PublishProblem(unit, id, dataset.Provider) is { } unlicensed)
            {
                throw Refusal.Precondition($"Cannot publish: {unlicensed}");
            }

            return Save(unit, caller, AuditActions.DatasetPublish, row, dataset with { State = DatasetState.Listed, DelistReason = "" }, null);
        }, cancellationToken);

    /// <summary>Takes a listed dataset off the catalog, if <paramref name="caller"/> may delist it.</summary>
    public Task<Decision<Dataset>> DelistAsync(Caller caller, DatasetId id, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Dataset>>(unit =>
        {
            var row = FindForChange(unit, id, caller);
            var dataset = row.Dataset;
            if (!DatasetPolicy.CanDelist(caller, dataset))
            {
                return unit.Deny(Entry(caller, AuditActions.DatasetDelist, dataset, Outcome.Denied),
                    $"Only the provider of '{id.Name}' or an operator may delist it.");
            }

            if (dataset.State != DatasetState.Listed)
            {
                throw Refusal.Precondition(dataset.State == DatasetState.Draft
                    ? $"'{id.Name}' is a draft; only a listed dataset can be delisted."
                    : $"'{id.Name}' is already delisted.");
            }

            return Save(unit, caller, AuditActions.DatasetDelist, row, dataset with { State = DatasetState.Delisted, DelistReason = reason },
                reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason });
        }, cancellationToken);

    /// <summary>The dataset, or null when it does not exist or <paramref name="caller"/> may not see it.</summary>
    public async Task<Dataset?> GetVisibleAsync(DatasetId id, Caller caller, CancellationToken cancellationToken)
    {
        var row = await _rows.GetOrReadAsync((id, caller.Participant), ct => database.ReadAsync(async (connection, ct) =>
            (await FindCommand(connection, null, id, caller.Participant).ListAsync(ReadRow, ct)).SingleOrDefault(), ct), cancellationToken);
        return row is not null && DatasetPolicy.CanSee(caller, row.Dataset, row.ViewerHoldsGrant) ? row.Dataset : null;
    }

    /// <summary>
    /// The dataset as <paramref name="caller"/> may see it (DatasetPolicy.CanSee, grants included),
    /// or null: the one visibility lookup every feature shares, inside its own unit of work.
    /// </summary>
    public Dataset? FindVisible(WriteUnit unit, DatasetId id, Caller caller) =>
        Find(unit, id, caller.Participant) is { } row && DatasetPolicy.CanSee(caller, row.Dataset, row.ViewerHoldsGrant)
            ? row.Dataset
            : null;


    /// <summary>
    /// One page of the datasets <paramref name="participant"/> may see that match the query, in
    /// creation order after position <paramref name="after"/>; the position to continue from,
    /// or null on the last page.
    /// </summary>
    public Task<(IReadOnlyList<Dataset> Page, long? Next)> ListAsync(DatasetQuery query, string participant, bool readsEverything,
        long after, int pageSize, CancellationToken cancellationToken) =>
        _pages.GetOrReadAsync((query, participant, readsEverything, after, pageSize), ct => ReadPageAsync(query, participant, readsEverything, after, pageSize, ct),
            cancellationToken);

    private Task<(IReadOnlyList<Dataset> Page, long? Next)> ReadPageAsync(DatasetQuery query, string participant, bool readsEverything,
        long after, int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Dataset>, long?)>(async (connection, ct) =>
        {
            var command = connection.Prepared(ListSql(query, database.Engine))
                .With("@after", after)
                .With("@me", participant)
                .With("@listed", (int)DatasetState.Listed)
                .With("@delisted", (int)DatasetState.Delisted)
                .With("@all", readsEverything ? 1 : 0)
                .With("@limit", pageSize + 1);
            if (query.Provider is not null)
            {
                command.With("@provider", query.Provider);
            }

            if (query.Classification != 0)
            {
                command.With("@classification", (int)query.Classification);
            }

            if (query.State is { } state)
            {
                command.With("@state", (int)state);
            }

            if (query.Tag is not null)
            {
                command.With("@tag", query.Tag);
            }

            if (query.MinCompleteness is { } completeness)
            {
                command.With("@completeness", completeness);
            }

            if (query.Text is not null)
            {
                command.With("@text", $"%{EscapeLike(query.Text)}%");
            }

            if (ByText(query, database.Engine))
            {
                // One FTS5 phrase: the text quoted, its quotes doubled, is a run of trigrams to match in one column.
                command.With("@match", $"\"{query.Text!.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
            }

            var rows = await command.ListAsync(ReadRow, ct);
            return KeysetPage.From(rows.Select(r => (r.Seq, r.Dataset)).ToList(), pageSize);
        }, cancellationToken);

    /// <summary>
    /// The page query for <paramref name="query"/>, with only the filters it sets. Every plan walks
    /// datasets in creation order and stops at the end of the page, so a page costs about the same
    /// on a catalog of any size: a tag filter walks that tag's index, a text filter on SQLite its
    /// trigram index (<see cref="ByText"/>), a provider or state filter its index, anything else the
    /// datasets themselves. Visibility (mirroring DatasetPolicy.CanSee; the catalog tests hold the
    /// two to the same answers) is one expression no index serves, which keeps the engine from
    /// gathering every visible dataset and sorting them first.
    /// </summary>
    internal static string ListSql(DatasetQuery query, DatabaseEngine engine)
    {
        var byTag = query.Tag is not null;
        var byText = ByText(query, engine);
        List<string> conditions =
        [
            byTag ? "t.tag = @tag AND t.dataset_seq > @after"
            : byText ? "dataset_text MATCH @match AND dataset_text.rowid > @after"
            : "d.seq > @after",
            """
            CASE WHEN d.provider = @me OR d.state = @listed
                      OR (d.state = @delisted AND (@all = 1 OR EXISTS (SELECT 1 FROM grants g WHERE g.dataset_id = d.id AND g.consumer = @me)))
                 THEN 1 ELSE 0 END = 1
            """,
        ];
        if (query.Provider is not null)
        {
            conditions.Add("d.provider = @provider");
        }

        if (query.Classification != 0)
        {
            conditions.Add("d.classification = @classification");
        }

        if (query.State is not null)
        {
            conditions.Add("d.state = @state");
        }

        if (query.MinCompleteness is not null)
        {
            conditions.Add("""
                EXISTS (SELECT 1 FROM revisions r WHERE r.dataset_seq = d.seq AND r.number = d.latest_revision AND r.completeness >= @completeness)
                """);
        }

        // The index only finds candidates (its case folding is Unicode's, lower()'s is ASCII's): the LIKEs decide.
        if (query.Text is not null && engine is PostgresEngine)
        {
            // One set of seqs, from the trigram indexes of the three columns, which an EXISTS per row would not use.
            conditions.Add("""
                d.seq IN (SELECT x.seq FROM datasets x WHERE lower(x.title) LIKE lower(@text) ESCAPE '!' OR lower(x.description) LIKE lower(@text) ESCAPE '!'
                          UNION ALL SELECT x.dataset_seq FROM dataset_tags x WHERE x.tag LIKE lower(@text) ESCAPE '!')
                """);
        }
        else if (query.Text is not null)
        {
            conditions.Add("""
                (lower(d.title) LIKE lower(@text) ESCAPE '!'
                 OR lower(d.description) LIKE lower(@text) ESCAPE '!'
                 OR EXISTS (SELECT 1 FROM dataset_tags x WHERE x.dataset_seq = d.seq AND x.tag LIKE lower(@text) ESCAPE '!'))
                """);
        }

        // Tags are unique within a dataset (DatasetValidation), so the join yields each dataset once; CROSS JOIN
        // keeps SQLite walking the text index first, in its rowid (= seq) order.
        var (from, order) = byTag ? ("dataset_tags t JOIN datasets d ON d.seq = t.dataset_seq", "t.dataset_seq")
            : byText ? ("dataset_text CROSS JOIN datasets d ON d.seq = dataset_text.rowid", "dataset_text.rowid")
            : ("datasets d", "d.seq");
        return $"""
            SELECT {DatasetColumns}
            FROM {from}
            WHERE {string.Join("\n  AND ", conditions)}
            ORDER BY {order}
            LIMIT @limit
            """;
    }

    /// <summary>
    /// Whether the page walks SQLite's trigram index (Migrations, version 7) of the text filter: for a
    /// text of 3 characters or more, the shortest a trigram can match (a tag filter, when there is
    /// one, walks that tag's index instead).
    /// </summary>
    private static bool ByText(DatasetQuery query, DatabaseEngine engine) =>
        engine is SqliteEngine && query.Tag is null && query.Text is { } text && text.EnumerateRunes().Skip(2).Any();

    /// <summary>
    /// The dataset a change is asked of: NOT_FOUND when it does not exist, or when
    /// <paramref name="caller"/> may not see it (the same answer, so a change leaks nothing).
    /// </summary>
    private static DatasetRow FindForChange(WriteUnit unit, DatasetId id, Caller caller)
    {
        var row = Find(unit, id, caller.Participant) ?? throw Refusal.NotVisible(id.Name);
        return DatasetPolicy.CanSee(caller, row.Dataset, row.ViewerHoldsGrant) ? row : throw Refusal.NotFound(id.Name, exists: true);
    }

    /// <summary>
    /// Stores <paramref name="changed"/> in place of <paramref name="row"/> and records it (action
    /// <paramref name="action"/>, <paramref name="details"/>); a change that alters nothing stores
    /// and records nothing.
    /// </summary>
    private static Dataset Save(WriteUnit unit, Caller caller, string action, DatasetRow row, Dataset changed,
        IReadOnlyDictionary<string, string>? details)
    {
        if (changed.Equals(row.Dataset))
        {
            return row.Dataset;
        }

        unit.Command("""
            UPDATE datasets SET title = @title, description = @description, classification = @classification,
                state = @state, auto_approval = @auto, delist_reason = @delisted, update_time = @now
            WHERE seq = @seq
            """)
            .With("@delisted", changed.DelistReason)
            .With("@title", changed.Title)
            .With("@description", changed.Description)
            .With("@classification", (int)changed.Classification)
            .With("@state", (int)changed.State)
            .With("@auto", changed.AutoApprovalTerms is { } terms ? TermsMapping.Encode(terms) : null)
            .With("@now", Timestamps.ToMicros(unit.Now))
            .With("@seq", row.Seq)
            .ExecuteNonQuery();
        if (!changed.Tags.SequenceEqual(row.Dataset.Tags, StringComparer.Ordinal))
        {
            unit.Command("DELETE FROM dataset_tags WHERE dataset_seq = @seq").With("@seq", row.Seq).ExecuteNonQuery();
            WriteTags(unit, row.Seq, changed.Tags);
        }

        unit.Record(Entry(caller, action, changed, Outcome.Success) with { Details = details });
        return Find(unit, changed.Id)!.Dataset;
    }

    private static AuditEntry Entry(Caller caller, string action, Dataset dataset, Outcome outcome) =>
        new(caller.Participant, action, dataset.Id.Name, outcome, Dataset: dataset.Id.Name, DatasetProvider: dataset.Provider);

    private static Dataset Apply(string path, DatasetFields from, Dataset to) => path switch
    {
        "title" => to with { Title = from.Title },
        "description" => to with { Description = from.Description },
        "tags" => to with { Tags = from.Tags },
        "classification" => to with { Classification = from.Classification },
        "auto_approval_terms" => to with { AutoApprovalTerms = from.AutoApprovalTerms },
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Not an updatable field."),
    };

    /// <summary>The dataset, and whether <paramref name="viewer"/> holds a grant on it (which keeps a DELISTED dataset visible).</summary>
    private static DatasetRow? Find(WriteUnit unit, DatasetId id, string? viewer = null)
    {
        using var command = FindCommand(unit.Connection, unit.Transaction, id, viewer);
        return ReadAll(command).SingleOrDefault();
    }

    private static DbCommand FindCommand(DbConnection connection, DbTransaction? transaction, DatasetId id, string? viewer) =>
        connection.Prepared($"""
            SELECT {DatasetColumns}, EXISTS (SELECT 1 FROM grants g WHERE g.dataset_id = d.id AND g.consumer = @viewer)
            FROM datasets d WHERE d.id = @id
            """, transaction).With("@id", id.Value).With("@viewer", viewer);

    /// <summary>Rows inside the writer's transaction, which runs synchronously by design.</summary>
    private static List<DatasetRow> ReadAll(DbCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<DatasetRow>();
        while (reader.Read())
        {
            rows.Add(ReadRow(reader));
        }

        return rows;
    }

    private static DatasetRow ReadRow(DbDataReader reader)
    {
        var dataset = new Dataset(
            new DatasetId(reader.GetString(1)),
            Provider: reader.GetString(2),
            Title: reader.GetString(3),
            Description: reader.GetString(4),
            // Tags never hold a comma (DatasetValidation), so it separates them.
            Tags: reader.IsDBNull(11) ? [] : reader.GetString(11).Split(','),
            Classification: (Classification)reader.GetInt32(5),
            State: (DatasetState)reader.GetInt32(6),
            AutoApprovalTerms: reader.IsDBNull(7) ? null : TermsMapping.Decode((byte[])reader[7]),
            LatestRevision: reader.GetInt64(8),
            CreateTime: Timestamps.ToTime(reader.GetInt64(9)),
            UpdateTime: Timestamps.ToTime(reader.GetInt64(10)),
            DelistReason: reader.GetString(12),
            LineageStatus: (V1.LineageStatus)reader.GetInt32(13),
            LineageReason: reader.GetString(14));
        return new DatasetRow(reader.GetInt64(0), dataset, reader.FieldCount > 15 && reader.GetBoolean(15));
    }

    private static void WriteTags(WriteUnit unit, long seq, IEnumerable<string> tags)
    {
        var position = 0;
        foreach (var tag in tags)
        {
            unit.Command("INSERT INTO dataset_tags (dataset_seq, position, tag) VALUES (@seq, @pos, @tag)")
                .With("@seq", seq).With("@pos", position++).With("@tag", tag)
                .ExecuteNonQuery();
        }
    }

    /// <summary>The classification's name in the contract (e.g. CLASSIFICATION_PUBLIC), as every other client sees it.</summary>
    private static string ContractName(Classification value) => Enum.IsDefined(value)
        ? $"CLASSIFICATION_{value.ToString().ToUpperInvariant()}"
        : ((int)value).ToString(CultureInfo.InvariantCulture);

    // '!' escapes rather than a backslash, whose meaning in a string literal differs between engines.
    private static string EscapeLike(string text) =>
        text.Replace("!", "!!", StringComparison.Ordinal)
            .Replace("%", "!%", StringComparison.Ordinal)
            .Replace("_", "!_", StringComparison.Ordinal);

    private sealed record DatasetRow(long Seq, Dataset Dataset, bool ViewerHoldsGrant);
}
