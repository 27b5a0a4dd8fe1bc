using System.Data.Common;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;

namespace Exchange.Server.Lineage;

/// <summary>
/// The lineage graph in the database: edges from a derived dataset to the revisions it came from,
/// each under the grant that allowed it. Declarations check the grants inside the writer's
/// transaction; a revocation or cancellation flags every descendant in the transaction that made it,
/// with an event per flagged dataset that its provider sees (<see cref="LineageFlags"/>).
/// </summary>
internal sealed class LineageStore(Database database, ICatalog catalog, IRevisions revisions, IGrants grants)
{
    public const int DefaultDepth = 3;
    public const int MaxDepth = 16;
    public const int MaxSources = 64;

    /// <summary>At most this many datasets in one answer of GetLineage.</summary>
    public const int MaxNodes = 1000;

    /// <summary>At most this many edges in one answer of GetLineage.</summary>
    public const int MaxEdges = 5000;

    /// <summary>Declares <paramref name="datasetId"/> derived from each source, under its grant.</summary>
    public Task<Decision<IReadOnlyList<V1.Derivation>>> DeclareAsync(Caller caller, DatasetId datasetId, IReadOnlyList<(RevisionId Revision, GrantId Grant)> sources,
        string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<IReadOnlyList<V1.Derivation>>>(unit =>
        {
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "DeclareDerivation", requestId, fingerprint) is { } earlier)
            {
                return Declared(unit, earlier.Split(','));
            }

            var dataset = catalog.FindVisible(unit, datasetId, caller) ?? throw Refusal.NotVisible(datasetId.Name);
            if (!LineagePolicy.CanDeclare(caller, dataset.Provider))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.LineageDerive, datasetId.Name, Outcome.Denied, Dataset: datasetId.Name,
                    Subject: caller.Participant, DatasetProvider: dataset.Provider), $"Only the provider of '{datasetId.Name}' may declare what it is derived from.");
            }

            var declared = new List<string>();
            foreach (var (revision, grantId) in sources)
            {
                var grant = grants.Find(unit, grantId);
                if (grant is null || !AccessPolicy.CanSee(caller, grant))
                {
                    throw Refusal.NotFound(grantId.Name, exists: grant is not null);
                }

                if (grant.Consumer != caller.Participant)
                {
                    throw Refusal.Precondition($"'{grantId.Name}' is {grant.Consumer}'s grant; a derivation is declared under your own grant.");
                }

                if (grant.State != Access.Model.GrantState.Active)
                {
                    throw Refusal.Precondition($"'{grantId.Name}' is {grant.State.ToString().ToLowerInvariant()}; derivation needs an active grant.");
                }

                if (!grant.Terms.AllowsDerivation)
                {
                    throw Refusal.Precondition($"The terms of '{grantId.Name}' do not allow derivation; ask {grant.Provider} for a grant whose terms do.");
                }

                if (revision.Dataset != grant.Dataset)
                {
                    throw Refusal.Invalid($"{revision.Name} is not of {grant.Dataset.Name}, the dataset '{grantId.Name}' is on.");
                }

                if (revisions.Find(unit, revision) is null)
                {
                    throw Refusal.NotFound(revision.Name, exists: false);
                }

                if (revision.Dataset == datasetId || Reaches(unit, datasetId, revision.Dataset))
                {
                    throw Refusal.Precondition($"{revision.Dataset.Name} is derived from '{datasetId.Name}' already; a dataset cannot be its own source.");
                }

                if (unit.Command("SELECT id FROM derivations WHERE dataset_id = @d AND source_dataset = @s AND source_revision = @n AND grant_id = @g")
                        .With("@d", datasetId.Value).With("@s", revision.Dataset.Value).With("@n", revision.Number).With("@g", grantId.Value)
                        .ExecuteScalar() is string existing)
                {
                    throw Refusal.Conflict($"{new DerivationName(datasetId, existing).Name} already declares {revision.Name} under '{grantId.Name}'.");
                }

                var name = DerivationName.New(datasetId);
                unit.Command("""
                    INSERT INTO derivations (id, dataset_id, source_dataset, source_revision, grant_id, declared_by, create_time, state, descendants_survive)
                    VALUES (@id, @d, @s, @n, @g, @by, @now, @active, @survive)
                    """)
                    .With("@id", name.Id).With("@d", datasetId.Value).With("@s", revision.Dataset.Value).With("@n", revision.Number)
                    .With("@g", grantId.Value).With("@by", caller.Participant).With("@now", Timestamps.ToMicros(unit.Now))
                    .With("@active", (int)DerivationState.Active).With("@survive", grant.Terms.DescendantsSurvive ? 1 : 0)
                    .ExecuteNonQuery();
                // The source's provider is the event's subject: it is told who derived what from its data.
                unit.Record(new AuditEntry(caller.Participant, AuditActions.LineageDerive, name.Name, Outcome.Success, Dataset: datasetId.Name,
                    Subject: grant.Provider, DatasetProvider: dataset.Provider,
                    Details: new Dictionary<string, string> { ["source_revision"] = revision.Name, ["grant"] = grantId.Name }));
                declared.Add(name.Id);
            }

            unit.Command("UPDATE datasets SET lineage_status = @clear WHERE id = @d AND lineage_status = @none")
                .With("@clear", (int)LineageStatus.Clear).With("@none", (int)LineageStatus.Unspecified).With("@d", datasetId.Value)
                .ExecuteNonQuery();
            foreach (var edge in Declared(unit, declared))
            {
                LineageFlags.Inherit(unit, caller.Participant, edge);
            }

            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "DeclareDerivation", requestId, fingerprint,
                    string.Join(',', declared), Timestamps.ToMicros(unit.Now));
            }

            return Declared(unit, declared);
        }, cancellationToken);

    /// <summary>
    /// The graph around <paramref name="root"/>, which the caller must see: datasets reached within
    /// <paramref name="depth"/> steps in <paramref name="direction"/>, through the edges the caller may see.
    /// </summary>
    public async Task<(List<LineageNode> Nodes, List<V1.Derivation> Edges)> GraphAsync(Caller caller, DatasetId root, LineageDirection direction,
        int depth, CancellationToken cancellationToken)
    {
        // A read, never on the writer's queue: anyone may ask about a listed dataset, as often as the call limiter lets it.
        _ = await catalog.GetVisibleAsync(root, caller, cancellationToken) ?? throw Errors.NotFound(root.Name);
        var (nodes, edges) = await database.ReadAsync(async (connection, ct) =>
        {
            var nodes = new List<string> { root.Value };
            var seen = new HashSet<string>(StringComparer.Ordinal) { root.Value };
            var edges = new Dictionary<string, V1.Derivation>(StringComparer.Ordinal);
            var frontier = new List<string> { root.Value };
            for (var step = 0; step < depth && frontier.Count > 0 && nodes.Count < MaxNodes && edges.Count < MaxEdges; step++)
            {
                var next = new List<string>();
                foreach (var at in frontier)
                {
                    var found = new List<V1.Derivation>();
                    if (direction != LineageDirection.Down)
                    {
                        found.AddRange(await VisibleEdgesAsync(connection, caller, "e.dataset_id = @at", at, ct));
                    }

                    if (direction != LineageDirection.Up)
                    {
                        found.AddRange(await VisibleEdgesAsync(connection, caller, "e.source_dataset = @at", at, ct));
                    }

                    foreach (var edge in found.Take(MaxEdges - edges.Count))
                    {
                        edges.TryAdd(edge.Name, edge);
                        foreach (var end in new[] { DatasetId.FromName(edge.Dataset).Value, RevisionId.Parse(edge.SourceRevision).Dataset.Value })
                        {
                            if (nodes.Count < MaxNodes && seen.Add(end))
                            {
                                nodes.Add(end);
                                next.Add(end);
                            }
                        }
                    }
                }

                frontier = next;
            }

            return (nodes, edges.Values.ToList());
        }, cancellationToken);

        var shown = new List<LineageNode>(nodes.Count);
        foreach (var id in nodes)
        {
            shown.Add(await NodeAsync(caller, new DatasetId(id), cancellationToken));
        }

        return (shown, edges);
    }

    /// <summary>The edges with these ids, in the order they were declared.</summary>
    private static List<V1.Derivation> Declared(WriteUnit unit, IReadOnlyList<string> ids) =>
        DerivationRows.Edges(unit, "e.id IN (" + string.Join(", ", ids.Select((_, i) => $"@id{i}")) + ")", c =>
        {
            for (var i = 0; i < ids.Count; i++)
            {
                c.With($"@id{i}", ids[i]);
            }
        });

    /// <summary>Whether <paramref name="to"/> is a descendant of <paramref name="from"/>.</summary>
    private static bool Reaches(WriteUnit unit, DatasetId from, DatasetId to)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { from.Value };
        var frontier = new Queue<string>([from.Value]);
        while (frontier.Count > 0)
        {
            using var command = unit.Command("SELECT dataset_id FROM derivations WHERE source_dataset = @s").With("@s", frontier.Dequeue());
            using var reader = command.ExecuteReader();
            var children = new List<string>();
            while (reader.Read())
            {
                children.Add(reader.GetString(0));
            }

            foreach (var child in children)
            {
                if (child == to.Value)
                {
                    return true;
                }

                if (seen.Add(child))
                {
                    frontier.Enqueue(child);
                }
            }
        }

        return false;
    }

    private static async Task<List<V1.Derivation>> VisibleEdgesAsync(DbConnection connection, Caller caller, string where, string at,
        CancellationToken cancellationToken)
    {
        await using var command = connection.Command($"""
            SELECT {DerivationRows.Columns}, s.provider, d.state FROM derivations e
            JOIN datasets s ON s.id = e.source_dataset JOIN datasets d ON d.id = e.dataset_id
            WHERE {where} ORDER BY e.seq LIMIT @limit
            """).With("@at", at).With("@limit", MaxEdges);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var edges = new List<V1.Derivation>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (LineagePolicy.CanSeeEdge(caller, reader.GetString(5), reader.GetString(10), reader.GetInt32(11) == (int)Catalog.Model.DatasetState.Listed))
            {
                edges.Add(DerivationRows.ReadEdge(reader));
            }
        }

        return edges;
    }

    private async Task<LineageNode> NodeAsync(Caller caller, DatasetId id, CancellationToken cancellationToken)
    {
        var node = new LineageNode { Dataset = id.Name };
        if (await catalog.GetVisibleAsync(id, caller, cancellationToken) is { } dataset)
        {
            node.Provider = dataset.Provider;
            node.Title = dataset.Title;
            node.LineageStatus = dataset.LineageStatus;
            node.LineageReason = dataset.LineageReason;
        }

        return node;
    }
}
