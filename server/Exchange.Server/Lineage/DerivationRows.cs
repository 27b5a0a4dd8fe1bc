using System.Data.Common;
using Exchange.Server.Access;
using Exchange.Server.Catalog;
using Exchange.Server.Storage;
using Exchange.V1;

namespace Exchange.Server.Lineage;

/// <summary>How an edge of the lineage graph is read from the <c>derivations</c> table.</summary>
internal static class DerivationRows
{
    public const string Columns =
        "e.id, e.dataset_id, e.source_dataset, e.source_revision, e.grant_id, e.declared_by, e.create_time, e.state, e.flag_reason, e.flag_time";

    public static List<V1.Derivation> Edges(WriteUnit unit, string where, Action<DbCommand> bind)
    {
        using var command = unit.Command($"SELECT {Columns} FROM derivations e WHERE {where} ORDER BY e.seq");
        bind(command);
        using var reader = command.ExecuteReader();
        var edges = new List<V1.Derivation>();
        while (reader.Read())
        {
            edges.Add(ReadEdge(reader));
        }

        return edges;
    }

    public static V1.Derivation ReadEdge(DbDataReader reader)
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
