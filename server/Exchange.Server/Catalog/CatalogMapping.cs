using System.Runtime.CompilerServices;
using Exchange.Server.Catalog.Model;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Catalog;

/// <summary>The catalog's domain types to and from the contract's exchange.v1 messages, at the edge.</summary>
internal static class CatalogMapping
{
    // A dataset read again while the catalog is unchanged is the same instance (Storage/ReadCache), so
    // its message is built once; what gRPC serializes it only reads.
    private static readonly ConditionalWeakTable<Dataset, V1.Dataset> Messages = new();

    /// <summary>The dataset's message, shared by every answer that carries this instance: never change it.</summary>
    public static V1.Dataset ToProto(this Dataset dataset) => Messages.GetValue(dataset, Build);

    private static V1.Dataset Build(Dataset dataset)
    {
        var proto = new V1.Dataset
        {
            Name = dataset.Id.Name,
            Provider = dataset.Provider,
            Title = dataset.Title,
            Description = dataset.Description,
            Classification = dataset.Classification.ToProto(),
            State = (V1.DatasetState)(int)dataset.State,
            AutoApprovalTerms = dataset.AutoApprovalTerms?.ToProto(),
            LatestRevision = dataset.LatestRevision == 0 ? "" : new RevisionId(dataset.Id, dataset.LatestRevision).Name,
            CreateTime = Timestamp.FromDateTimeOffset(dataset.CreateTime),
            UpdateTime = Timestamp.FromDateTimeOffset(dataset.UpdateTime),
            DelistReason = dataset.DelistReason,
            LineageStatus = dataset.LineageStatus,
            LineageReason = dataset.LineageReason,
        };
        proto.Tags.Add(dataset.Tags);
        return proto;
    }

    public static V1.Revision ToProto(this Revision revision) => new()
    {
        Name = revision.Id.Name,
        SizeBytes = revision.SizeBytes,
        Sha256 = ByteString.CopyFrom(revision.Sha256),
        MediaType = revision.MediaType,
        CreateTime = Timestamp.FromDateTimeOffset(revision.CreateTime),
        Format = revision.Table?.Format ?? V1.TableFormat.Unspecified,
        Schema = revision.Table is { } table ? V1.Schema.Parser.ParseFrom(table.Schema) : null,
        Quality = revision.Table?.Report,
    };

    /// <summary>The fields a provider writes, from a request's dataset (already validated: DatasetValidation).</summary>
    public static DatasetFields Fields(V1.Dataset proto) => new(
        proto.Title,
        proto.Description,
        [.. proto.Tags],
        FromProto(proto.Classification),
        proto.AutoApprovalTerms is null ? null : TermsMapping.FromProto(proto.AutoApprovalTerms));

    public static V1.Classification ToProto(this Classification classification) => (V1.Classification)(int)classification;

    public static Classification FromProto(V1.Classification classification) => (Classification)(int)classification;

    /// <summary>A dataset state filter: null for DATASET_STATE_UNSPECIFIED (any state).</summary>
    public static DatasetState? FromProto(V1.DatasetState state) =>
        state == V1.DatasetState.Unspecified ? null : (DatasetState)(int)state;
}
