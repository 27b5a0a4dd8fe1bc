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
/// with an event per flagged dataset that its provider sees.
/// </summary>
internal sealed class LineageStore(Database database, ICatalog catalog, IRevisions revisions, IGrants grants) : IDerivations
{
    public const int DefaultDepth = 3;
    public const int MaxDepth = 16;
    public const int MaxSources = 64;

    /// <summary>At most this many datasets in one answer of GetLineage.</summary>
    public const int MaxNodes = 1000;

    private const string EdgeColumns =
        "e.id, e.dataset_id, e.source_dataset, e.source_revision, e.grant_id, e.declared_by, e.create_time, e.state, e.flag_reason, e.flag_time";

    /// <summary>Declares <paramref name="datasetId"/> derived from each source, under its grant.</summary>
    public Task<Decision<IReadOnlyList<V1.Derivation>>> DeclareAsync(Caller caller, DatasetId datasetId, IReadOnlyList<(RevisionId Revision, GrantId Grant)> sources,
        string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<IReadOnlyList<V1.Derivation>>>(unit =>
        {
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "DeclareDerivation", requestId, fingerprint) is { } earlier)
            {
                var ids = earlier.Split(',');
                return Edges(unit, "e.id IN (" + string.Join(", ", ids.Select((_, i) => $"@id{i}")) + ")",
                    c => { for (var i = 0; i < ids.Length; i++) { c.With($"@id{i}", ids[i]); } });
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
                    INSERT INTO derivations (id, dataset_id, source_dataset, source_revision, grant_id, declared_by, create_time, state)
                    VALUES (@id, @d, @s, @n, @g, @by, @now, @active)
                    """)
                    .With("@id", name.Id).With("@d", datasetId.Value).With("@s", revision.Dataset.Value).With("@n", revision.Number)
                    .With("@g", grantId.Value).With("@by", caller.Participant).With("@now", Timestamps.ToMicros(unit.Now))
                    .With("@active", (int)DerivationState.Active)
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
            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "DeclareDerivation", requestId, fingerprint,
                    string.Join(',', declared), Timestamps.ToMicros(unit.Now));
            }

            return Edges(unit, "e.dataset_id = @d AND e.id IN (" + string.Join(", ", declared.Select((_, i) => $"@id{i}")) + ")",
                c =>
                {
                    c.With("@d", datasetId.Value);
                    for (var i = 0; i < declared.Count; i++)
                    {
                        c.With($"@id{i}", declared[i]);
                    }
                });
        }, cancellationToken);

    /// <summary>
    /// The graph around <paramref name="root"/>, which the caller must see: datasets reached within
    /// <paramref name="depth"/> steps in <paramref name="direction"/>, through the edges the caller may see.
    /// </summary>
    public Task<(List<LineageNode> Nodes, List<V1.Derivation> Edges)> GraphAsync(Caller caller, DatasetId root, LineageDirection direction, int depth,
        CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            _ = catalog.FindVisible(unit, root, caller) ?? throw Refusal.NotVisible(root.Name);
            var nodes = new List<string> { root.Value };
            var seen = new HashSet<string>(StringComparer.Ordinal) { root.Value };
            var edges = new Dictionary<string, V1.Derivation>(StringComparer.Ordinal);
            var frontier = new List<string> { root.Value };
            for (var step = 0; step < depth && frontier.Count > 0 && nodes.Count < MaxNodes; step++)
            {
                var next = new List<string>();
                foreach (var at in frontier)
                {
                    var found = new List<V1.Derivation>();
                    if (direction != LineageDirection.Down)
                    {
                        found.AddRange(VisibleEdges(unit, caller, "e.dataset_id = @at", at));
                    }

                    if (direction != LineageDirection.Up)
                    {
                        found.AddRange(VisibleEdges(unit, caller, "e.source_dataset = @at", at));
                    }

                    foreach (var edge in found)
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

            return (nodes.Select(id => Node(unit, caller, new DatasetId(id))).ToList(), edges.Values.ToList());
        }, cancellationToken);

    public void GrantRevoked(WriteUnit unit, string actor, string grant, string reason, bool descendantsSurvive) =>
        Flag(unit, actor, "e.grant_id = @g", c => c.With("@g", GrantId.Parse(grant).Value),
            $"{grant} was revoked{(reason.Length > 0 ? $" ({reason})" : "")}", _ => !descendantsSurvive);

    public void RightCancelled(WriteUnit unit, string actor, DatasetId source, string? holder, string right, string reason) =>
        Flag(unit, actor, "e.source_dataset = @s AND (CAST(@h AS TEXT) IS NULL OR e.declared_by = @h)",
            c => c.With("@s", source.Value).With("@h", holder),
            $"{right} over {source.Name} was cancelled{(reason.Length > 0 ? $" ({reason})" : "")}",
            edge => grants.Find(unit, GrantId.Parse(edge.Grant)) is not { Terms.DescendantsSurvive: true });

    public string? DownloadBlock(WriteUnit unit, DatasetId dataset)
    {
        using var command = unit.Command("SELECT lineage_blocks, lineage_reason FROM datasets WHERE id = @d").With("@d", dataset.Value);
        using var reader = command.ExecuteReader();
        return reader.Read() && reader.GetInt32(0) != 0
            ? $"'{dataset.Name}' is derived from data whose grant or right has ended ({reader.GetString(1)}), and the source's terms " +
              "do not let derived data be downloaded after that."
            : null;
    }

    /// <summary>
    /// Flags the active edges matching <paramref name="where"/>, then every edge downstream of the datasets
    /// they lead to, each derived dataset once, with an event its provider sees; a dataset's downloads stop
    /// when its first flagged edge's source terms say so (<paramref name="blocks"/>), and so do those of everything below it.
    /// </summary>
    private void Flag(WriteUnit unit, string actor, string where, Action<DbCommand> bind, string cause, Func<V1.Derivation, bool> blocks)
    {
        var queue = new Queue<(V1.Derivation Edge, string Reason, bool Blocks)>();
        foreach (var edge in Edges(unit, $"{where} AND e.state = @active", c =>
                 {
                     bind(c);
                     c.With("@active", (int)DerivationState.Active);
                 }))
        {
            queue.Enqueue((edge, cause, blocks(edge)));
        }

        var flagged = new HashSet<string>(StringComparer.Ordinal);
        while (queue.Count > 0)
        {
            var (edge, reason, stops) = queue.Dequeue();
            var edgeName = DerivationName.Parse(edge.Name);
            unit.Command("UPDATE derivations SET state = @flagged, flag_reason = @reason, flag_time = @now WHERE id = @id AND state = @active")
                .With("@flagged", (int)DerivationState.Flagged).With("@reason", reason).With("@now", Timestamps.ToMicros(unit.Now))
                .With("@id", edgeName.Id).With("@active", (int)DerivationState.Active)
                .ExecuteNonQuery();
            var derived = edgeName.Dataset;
            if (!flagged.Add(derived.Value))
            {
                continue;
            }

            var provider = (string)unit.Command("SELECT provider FROM datasets WHERE id = @d").With("@d", derived.Value).ExecuteScalar()!;
            unit.Command("""
                UPDATE datasets SET lineage_status = @flagged, lineage_reason = @reason,
                    lineage_blocks = CASE WHEN @blocks = 1 THEN 1 ELSE lineage_blocks END
                WHERE id = @d
                """)
                .With("@flagged", (int)LineageStatus.Flagged).With("@reason", reason).With("@blocks", stops ? 1 : 0).With("@d", derived.Value)
                .ExecuteNonQuery();
            unit.Record(new AuditEntry(actor, AuditActions.LineageFlag, derived.Name, Outcome.Success, Dataset: derived.Name, Subject: provider,
                DatasetProvider: provider, Details: new Dictionary<string, string>
                {
                    ["reason"] = reason,
                    ["derivation"] = edge.Name,
                    ["downloads"] = stops ? "stopped" : "continue",
                }));

            var upstream = $"upstream, {reason}";
            foreach (var below in Edges(unit, "e.source_dataset = @s AND e.state = @active", c =>
                     {
                         c.With("@s", derived.Value);
                         c.With("@active", (int)DerivationState.Active);
                     }))
            {
                queue.Enqueue((below, upstream, stops));
            }
        }
    }

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

    private static List<V1.Derivation> VisibleEdges(WriteUnit unit, Caller caller, string where, string at)
    {
        using var command = unit.Command($"""
            SELECT {EdgeColumns}, s.provider, d.state FROM derivations e
            JOIN datasets s ON s.id = e.source_dataset JOIN datasets d ON d.id = e.dataset_id
            WHERE {where} ORDER BY e.seq
            """).With("@at", at);
        using var reader = command.ExecuteReader();
        var edges = new List<V1.Derivation>();
        while (reader.Read())
        {
            if (LineagePolicy.CanSeeEdge(caller, reader.GetString(5), reader.GetString(10), reader.GetInt32(11) == (int)Catalog.Model.DatasetState.Listed))
            {
                edges.Add(ReadEdge(reader));
            }
        }

        return edges;
    }

    private LineageNode Node(WriteUnit unit, Caller caller, DatasetId id)
    {
        var node = new LineageNode { Dataset = id.Name };
        if (catalog.FindVisible(unit, id, caller) is { } dataset)
        {
            node.Provider = dataset.Provider;
            node.Title = dataset.Title;
            node.LineageStatus = dataset.LineageStatus;
            node.LineageReason = dataset.LineageReason;
        }

        return node;
    }

    private static List<V1.Derivation> Edges(WriteUnit unit, string where, Action<DbCommand> bind)
    {
        using var command = unit.Command($"SELECT {EdgeColumns} FROM derivations e WHERE {where} ORDER BY e.seq");
        bind(command);
        using var reader = command.ExecuteReader();
        var edges = new List<V1.Derivation>();
        while (reader.Read())
        {
            edges.Add(ReadEdge(reader));
        }

        return edges;
    }

    private static V1.Derivation ReadEdge(DbDataReader reader)
    {
        var dataset = new DatasetId(reader.GetString(1));
        return new V1.Derivation
        {
            Name = new DerivationName(dataset, reader.GetString(0)).Name,
            Dataset = dataset.Name,
            SourceRevision = new RevisionId(new DatasetId(reader.GetString(2)), reader.GetInt64(3)).Name,
            Grant = new GrantId(reader.GetString(4)).Name,
            DeclaredBy = reader.GetString(5),
            CreateTime = Timestamps.FromMicros(reader.GetInt64(6)),
            State = (DerivationState)reader.GetInt32(7),
            FlagReason = reader.GetString(8),
            FlagTime = reader.IsDBNull(9) ? null : Timestamps.FromMicros(reader.GetInt64(9)),
        };
    }
}
