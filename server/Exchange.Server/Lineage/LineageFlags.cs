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
    /// Flags the active edges matching <paramref name="where"/>, then every edge downstream of the datasets
    /// they lead to, each derived dataset once, with an event its provider sees; a dataset's downloads stop
    /// unless the terms of the grant its flagged edge was declared under let descendants survive, and so do those of everything below it.
    /// </summary>
    private static void Flag(WriteUnit unit, string actor, string where, Action<DbCommand> bind, string cause)
    {
        var queue = new Queue<(V1.Derivation Edge, string Reason, bool Blocks)>();
        foreach (var (edge, survive) in Survivals(unit, where, bind))
        {
            queue.Enqueue((edge, cause, !survive));
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
            foreach (var below in DerivationRows.Edges(unit, "e.source_dataset = @s AND e.state = @active", c =>
                     {
                         c.With("@s", derived.Value);
                         c.With("@active", (int)DerivationState.Active);
                     }))
            {
                queue.Enqueue((below, upstream, stops));
            }
        }
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
