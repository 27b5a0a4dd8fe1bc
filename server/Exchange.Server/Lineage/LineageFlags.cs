using System.Data.Common;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Storage;
using Exchange.V1;

namespace Exchange.Server.Lineage;

/// <summary>
/// Flags descendants when a source grant is revoked or a source right cancelled, in the unit of work
/// that did it, and says whether a flag stops a dataset's downloads. It reads only the lineage tables:
/// whether descendants survive was copied onto each edge from its grant's terms, which never change,
/// so Access and Rights can call it without a cycle back to them.
/// </summary>
internal sealed class LineageFlags : IDerivations
{
    public void GrantRevoked(WriteUnit unit, string actor, string grant, string reason) =>
        Flag(unit, actor, "e.grant_id = @g", c => c.With("@g", GrantId.Parse(grant).Value),
            $"{grant} was revoked{(reason.Length > 0 ? $" ({reason})" : "")}");

    public void RightCancelled(WriteUnit unit, string actor, DatasetId source, string? holder, string right, string reason) =>
        Flag(unit, actor, "e.source_dataset = @s AND (CAST(@h AS TEXT) IS NULL OR e.declared_by = @h)",
            c => c.With("@s", source.Value).With("@h", holder),
            $"{right} over {source.Name} was cancelled{(reason.Length > 0 ? $" ({reason})" : "")}");

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
    /// Flags a newly declared edge whose source is flagged already: what is derived from flagged data is
    /// flagged too, and its downloads stop when the source's do.
    /// </summary>
    public static void Inherit(WriteUnit unit, string actor, V1.Derivation edge)
    {
        var source = RevisionId.Parse(edge.SourceRevision).Dataset;
        var (status, reason, blocks, _) = Standing(unit, source);
        if (status == LineageStatus.Flagged)
        {
            Propagate(unit, actor, [(edge, $"upstream, {reason}", blocks)]);
        }
    }

    private static void Flag(WriteUnit unit, string actor, string where, Action<DbCommand> bind, string cause) =>
        Propagate(unit, actor, Survivals(unit, where, bind).Select(e => (e.Edge, cause, !e.Survive)));

    /// <summary>
    /// Flags each edge and the dataset it leads to, with an event its provider sees, then everything downstream.
    /// A dataset's downloads stop when any path that flags it says so (its edge's grant does not let descendants
    /// survive), and then those of everything below it. A dataset flagged before is flagged again only to tell of the
    /// new cause, and its descendants are visited again only when its downloads stop now and did not before.
    /// </summary>
    private static void Propagate(WriteUnit unit, string actor, IEnumerable<(V1.Derivation Edge, string Reason, bool Stops)> start)
    {
        var queue = new Queue<(V1.Derivation Edge, string Reason, bool Stops)>(start);
        var visited = new Dictionary<string, bool>(StringComparer.Ordinal);
        while (queue.Count > 0)
        {
            var (edge, reason, stops) = queue.Dequeue();
            var edgeName = DerivationName.Parse(edge.Name);
            unit.Command("UPDATE derivations SET state = @flagged, flag_reason = @reason, flag_time = @now WHERE id = @id AND state = @active")
                .With("@flagged", (int)DerivationState.Flagged).With("@reason", reason).With("@now", Timestamps.ToMicros(unit.Now))
                .With("@id", edgeName.Id).With("@active", (int)DerivationState.Active)
                .ExecuteNonQuery();
            var derived = edgeName.Dataset;
            if (visited.TryGetValue(derived.Value, out var stoppedHere) && (stoppedHere || !stops))
            {
                continue;
            }

            var (status, _, blocked, provider) = Standing(unit, derived);
            var nowStops = stops || blocked;
            visited[derived.Value] = nowStops;
            unit.Command("UPDATE datasets SET lineage_status = @flagged, lineage_reason = @reason, lineage_blocks = @blocks WHERE id = @d")
                .With("@flagged", (int)LineageStatus.Flagged).With("@reason", reason).With("@blocks", nowStops ? 1 : 0).With("@d", derived.Value)
                .ExecuteNonQuery();
            if (nowStops)
            {
                // Downloads already running stop too, as the flag commits: the terms hold for every byte.
                unit.Announce(LineageStops.ChannelName, derived.Name);
            }

            unit.Record(new AuditEntry(actor, AuditActions.LineageFlag, derived.Name, Outcome.Success, Dataset: derived.Name, Subject: provider,
                DatasetProvider: provider, Details: new Dictionary<string, string>
                {
                    ["reason"] = reason,
                    ["derivation"] = edge.Name,
                    ["downloads"] = nowStops ? "stopped" : "continue",
                }));

            if (status == LineageStatus.Flagged && nowStops == blocked)
            {
                // Flagged before with the same consequence: what lies below it was flagged then, or when it was declared.
                continue;
            }

            foreach (var below in DerivationRows.Edges(unit, "e.source_dataset = @s", c => c.With("@s", derived.Value)))
            {
                queue.Enqueue((below, $"upstream, {reason}", nowStops));
            }
        }
    }

    private static (LineageStatus Status, string Reason, bool Blocks, string Provider) Standing(WriteUnit unit, DatasetId dataset)
    {
        using var command = unit.Command("SELECT lineage_status, lineage_reason, lineage_blocks, provider FROM datasets WHERE id = @d")
            .With("@d", dataset.Value);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? ((LineageStatus)reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2) != 0, reader.GetString(3))
            : (LineageStatus.Unspecified, "", false, "");
    }

    /// <summary>The active edges matching <paramref name="where"/>, each with whether its grant lets descendants survive.</summary>
    private static List<(V1.Derivation Edge, bool Survive)> Survivals(WriteUnit unit, string where, Action<DbCommand> bind)
    {
        using var command = unit.Command($"SELECT {DerivationRows.Columns}, e.descendants_survive FROM derivations e WHERE {where} AND e.state = @active ORDER BY e.seq");
        bind(command);
        command.With("@active", (int)DerivationState.Active);
        using var reader = command.ExecuteReader();
        var edges = new List<(V1.Derivation, bool)>();
        while (reader.Read())
        {
            edges.Add((DerivationRows.ReadEdge(reader), reader.GetInt32(10) != 0));
        }

        return edges;
    }
}
