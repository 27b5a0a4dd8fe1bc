using System.Data.Common;
using Exchange.Server.Audit;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Catalog;

/// <summary>Datasets and revisions in the embedded database.</summary>
internal sealed class CatalogStore(Database database)
{
    private const string DatasetColumns = """
        d.seq, d.id, d.provider, d.title, d.description, d.classification, d.state, d.auto_approval,
        d.latest_revision, d.create_time, d.update_time,
        (SELECT string_agg(t.tag, ',' ORDER BY t.position) FROM dataset_tags t WHERE t.dataset_seq = d.seq),
        d.delist_reason
        """;

    /// <summary>
    /// Stores a new DRAFT dataset owned by <paramref name="provider"/> and records it. With a
    /// request id, a retry returns the dataset the first call created (and records nothing).
    /// </summary>
    public Task<Dataset> CreateAsync(string provider, Dataset draft, string requestId, byte[] fingerprint,
        CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var (connection, transaction) = (context.Connection, context.Transaction);
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(connection, transaction, provider, "CreateDataset", requestId, fingerprint) is { } existing)
            {
                return Find(connection, transaction, DatasetNames.ParseId(existing))!.Dataset;
            }

            var id = DatasetNames.NewId();
            var name = DatasetNames.Format(id);
            var micros = Timestamps.ToMicros(context.Now);
            var seq = (long)context.Command("""
                INSERT INTO datasets (id, provider, title, description, classification, state, auto_approval, create_time, update_time)
                VALUES (@id, @provider, @title, @description, @classification, @state, @auto, @now, @now)
                RETURNING seq
                """)
                .With("@id", id)
                .With("@provider", provider)
                .With("@title", draft.Title)
                .With("@description", draft.Description)
                .With("@classification", (int)draft.Classification)
                .With("@state", (int)DatasetState.Draft)
                .With("@auto", draft.AutoApprovalTerms?.ToByteArray())
                .With("@now", micros)
                .ExecuteScalar()!;
            WriteTags(connection, transaction, seq, draft.Tags);

            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(connection, transaction, provider, "CreateDataset", requestId, fingerprint, name, micros);
            }

            context.Record(new AuditEntry(provider, AuditActions.DatasetCreate, name, AuditOutcome.Success,
                Dataset: name, DatasetProvider: provider,
                Details: new Dictionary<string, string> { ["title"] = draft.Title, ["classification"] = ProtoName(draft.Classification) }));
            return Find(connection, transaction, id)!.Dataset;
        }, cancellationToken);

    /// <summary>The dataset, or null when it does not exist or <paramref name="caller"/> may not see it.</summary>
    public Task<Dataset?> GetVisibleAsync(string id, Caller caller, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindVisible(connection, null, id, caller), cancellationToken);

    /// <summary>
    /// The dataset as <paramref name="caller"/> may see it (DatasetPolicy.CanSee, grants included),
    /// or null: the one visibility lookup every service shares, inside or outside a write.
    /// </summary>
    internal static Dataset? FindVisible(DbConnection connection, DbTransaction? transaction, string id, Caller caller) =>
        Find(connection, transaction, id, caller.Participant) is { } row && DatasetPolicy.CanSee(caller, row.Dataset, row.ViewerHoldsGrant)
            ? row.Dataset
            : null;

    /// <summary>
    /// Reads the dataset, lets <paramref name="change"/> check the caller's rights and alter it,
    /// and stores the result with its audit record (action <paramref name="action"/>, details from
    /// <paramref name="change"/>), all in one transaction so no check goes stale. A
    /// PERMISSION_DENIED from <paramref name="change"/> is recorded as a denial and rethrown once
    /// that record is durable; a change that alters nothing stores and records nothing.
    /// </summary>
    public Task<Dataset> ChangeAsync(string id, string actor, string action,
        Func<Dataset, bool, IReadOnlyDictionary<string, string>?> change, CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var row = Find(context.Connection, context.Transaction, id, actor) ?? throw Errors.NotFound(DatasetNames.Format(id));
            var dataset = row.Dataset.Clone();
            IReadOnlyDictionary<string, string>? details;
            try
            {
                details = change(dataset, row.ViewerHoldsGrant);
            }
            catch (RpcException denied) when (denied.StatusCode == StatusCode.PermissionDenied)
            {
                throw new AuditedDenial(new AuditEntry(actor, action, dataset.Name, AuditOutcome.Denied,
                    Dataset: dataset.Name, DatasetProvider: row.Dataset.Provider,
                    Details: new Dictionary<string, string> { ["reason"] = denied.Status.Detail }), denied);
            }

            if (dataset.Equals(row.Dataset))
            {
                return row.Dataset;
            }

            context.Command("""
                UPDATE datasets SET title = @title, description = @description, classification = @classification,
                    state = @state, auto_approval = @auto, delist_reason = @delisted, update_time = @now
                WHERE seq = @seq
                """)
                .With("@delisted", dataset.DelistReason)
                .With("@title", dataset.Title)
                .With("@description", dataset.Description)
                .With("@classification", (int)dataset.Classification)
                .With("@state", (int)dataset.State)
                .With("@auto", dataset.AutoApprovalTerms?.ToByteArray())
                .With("@now", Timestamps.ToMicros(context.Now))
                .With("@seq", row.Seq)
                .ExecuteNonQuery();
            if (!dataset.Tags.SequenceEqual(row.Dataset.Tags))
            {
                context.Command("DELETE FROM dataset_tags WHERE dataset_seq = @seq").With("@seq", row.Seq).ExecuteNonQuery();
                WriteTags(context.Connection, context.Transaction, row.Seq, dataset.Tags);
            }

            context.Record(new AuditEntry(actor, action, dataset.Name, AuditOutcome.Success,
                Dataset: dataset.Name, DatasetProvider: row.Dataset.Provider, Details: details));
            return Find(context.Connection, context.Transaction, id)!.Dataset;
        }, cancellationToken);

    /// <summary>
    /// One page of the datasets <paramref name="participant"/> may see that match the query, in
    /// creation order after position <paramref name="after"/>; the position to continue from,
    /// or null on the last page.
    /// </summary>
    public Task<(IReadOnlyList<Dataset> Page, long? Next)> ListAsync(DatasetQuery query, string participant, bool readsEverything,
        long after, int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Dataset>, long?)>(connection =>
        {
            // Mirrors DatasetPolicy.CanSee; the catalog tests hold the two to the same answers.
            using var command = connection.Command($"""
                SELECT {DatasetColumns}
                FROM datasets d
                WHERE d.seq > @after
                  AND (d.provider = @me OR d.state = @listed
                       OR (d.state = @delisted AND (@all = 1 OR EXISTS (SELECT 1 FROM grants g WHERE g.dataset_id = d.id AND g.consumer = @me))))
                  AND (CAST(@provider AS TEXT) IS NULL OR d.provider = @provider)
                  AND (@classification = 0 OR d.classification = @classification)
                  AND (@state = 0 OR d.state = @state)
                  AND (CAST(@tag AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM dataset_tags t WHERE t.dataset_seq = d.seq AND t.tag = @tag))
                  AND (CAST(@text AS TEXT) IS NULL
                       OR lower(d.title) LIKE lower(@text) ESCAPE '!'
                       OR lower(d.description) LIKE lower(@text) ESCAPE '!'
                       OR EXISTS (SELECT 1 FROM dataset_tags t WHERE t.dataset_seq = d.seq AND t.tag LIKE lower(@text) ESCAPE '!'))
                ORDER BY d.seq
                LIMIT @limit
                """)
                .With("@after", after)
                .With("@me", participant)
                .With("@listed", (int)DatasetState.Listed)
                .With("@delisted", (int)DatasetState.Delisted)
                .With("@all", readsEverything ? 1 : 0)
                .With("@provider", query.Provider)
                .With("@classification", (int)query.Classification)
                .With("@state", (int)query.State)
                .With("@tag", query.Tag)
                .With("@text", query.Text is null ? null : $"%{EscapeLike(query.Text)}%")
                .With("@limit", pageSize + 1);
            return KeysetPage.From(ReadRows(command).Select(r => (r.Seq, r.Dataset)).ToList(), pageSize);
        }, cancellationToken);

    public Task<Revision?> GetRevisionAsync(string datasetId, long number, CancellationToken cancellationToken) =>
        database.ReadAsync(connection =>
        {
            using var command = connection.Command("""
                SELECT r.number, r.size_bytes, r.sha256, r.media_type, r.create_time
                FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
                WHERE d.id = @id AND r.number = @n
                """).With("@id", datasetId).With("@n", number);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadRevision(reader, datasetId) : null;
        }, cancellationToken);

    /// <summary>One page of a dataset's revisions, oldest first, after revision number <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Revision> Page, long? Next)> ListRevisionsAsync(string datasetId, long after, int pageSize,
        CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Revision>, long?)>(connection =>
        {
            using var command = connection.Command("""
                SELECT r.number, r.size_bytes, r.sha256, r.media_type, r.create_time
                FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
                WHERE d.id = @id AND r.number > @after
                ORDER BY r.number
                LIMIT @limit
                """).With("@id", datasetId).With("@after", after).With("@limit", pageSize + 1);
            using var reader = command.ExecuteReader();
            var revisions = new List<(long Number, Revision Revision)>();
            while (reader.Read())
            {
                revisions.Add((reader.GetInt64(0), ReadRevision(reader, datasetId)));
            }

            return KeysetPage.From(revisions, pageSize);
        }, cancellationToken);

    /// <summary>The dataset, and whether <paramref name="viewer"/> holds a grant on it (which keeps a DELISTED dataset visible).</summary>
    private static DatasetRow? Find(DbConnection connection, DbTransaction? transaction, string id, string? viewer = null)
    {
        using var command = connection.Command($"""
            SELECT {DatasetColumns}, EXISTS (SELECT 1 FROM grants g WHERE g.dataset_id = d.id AND g.consumer = @viewer)
            FROM datasets d WHERE d.id = @id
            """, transaction).With("@id", id).With("@viewer", viewer);
        return ReadRows(command).SingleOrDefault();
    }

    private static List<DatasetRow> ReadRows(DbCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<DatasetRow>();
        while (reader.Read())
        {
            var id = reader.GetString(1);
            var dataset = new Dataset
            {
                Name = DatasetNames.Format(id),
                Provider = reader.GetString(2),
                Title = reader.GetString(3),
                Description = reader.GetString(4),
                Classification = (Classification)reader.GetInt32(5),
                State = (DatasetState)reader.GetInt32(6),
                AutoApprovalTerms = reader.IsDBNull(7) ? null : Terms.Parser.ParseFrom((byte[])reader[7]),
                LatestRevision = reader.GetInt64(8) == 0 ? "" : DatasetNames.FormatRevision(id, reader.GetInt64(8)),
                CreateTime = Timestamps.FromMicros(reader.GetInt64(9)),
                UpdateTime = Timestamps.FromMicros(reader.GetInt64(10)),
                DelistReason = reader.GetString(12),
            };
            if (!reader.IsDBNull(11))
            {
                // Tags never hold a comma (DatasetValidation), so it separates them.
                dataset.Tags.Add(reader.GetString(11).Split(','));
            }

            rows.Add(new DatasetRow(reader.GetInt64(0), dataset, reader.FieldCount > 13 && reader.GetBoolean(13)));
        }

        return rows;
    }

    private static Revision ReadRevision(DbDataReader reader, string datasetId) => new()
    {
        Name = DatasetNames.FormatRevision(datasetId, reader.GetInt64(0)),
        SizeBytes = reader.GetInt64(1),
        Sha256 = ByteString.CopyFrom((byte[])reader[2]),
        MediaType = reader.GetString(3),
        CreateTime = Timestamps.FromMicros(reader.GetInt64(4)),
    };

    private static void WriteTags(DbConnection connection, DbTransaction transaction, long seq, IEnumerable<string> tags)
    {
        var position = 0;
        foreach (var tag in tags)
        {
            connection.Command("INSERT INTO dataset_tags (dataset_seq, position, tag) VALUES (@seq, @pos, @tag)", transaction)
                .With("@seq", seq).With("@pos", position++).With("@tag", tag)
                .ExecuteNonQuery();
        }
    }

    /// <summary>The enum value's name in the contract (e.g. CLASSIFICATION_PUBLIC), as every other client sees it.</summary>
    private static string ProtoName(Classification value) =>
        CatalogReflection.Descriptor.EnumTypes.Single(e => e.ClrType == typeof(Classification)).FindValueByNumber((int)value)?.Name
            ?? value.ToString();

    // '!' escapes rather than a backslash, whose meaning in a string literal differs between engines.
    private static string EscapeLike(string text) =>
        text.Replace("!", "!!", StringComparison.Ordinal)
            .Replace("%", "!%", StringComparison.Ordinal)
            .Replace("_", "!_", StringComparison.Ordinal);

    private sealed record DatasetRow(long Seq, Dataset Dataset, bool ViewerHoldsGrant);
}
