using Exchange.V1;
using Grpc.Core;

namespace Exchange.Benchmarks.Unary;

/// <summary>Answers at once with a fixed dataset: the transport's own cost of a unary call.</summary>
internal sealed class BareUnary : BareUnaryService.BareUnaryServiceBase
{
    private static readonly PingResponse Answer = new()
    {
        Dataset = new Dataset
        {
            Name = "datasets/abcdefabcdef",
            Provider = "acme",
            Title = "benchmark dataset",
            Description = "a dataset of the benchmark's catalog",
            Classification = Classification.Internal,
            State = DatasetState.Listed,
            Tags = { "benchmark" },
            CreateTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
            UpdateTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
        },
    };

    private static readonly ListDatasetsResponse Page = new()
    {
        Datasets = { Enumerable.Range(0, 10).Select(n => new Dataset(Answer.Dataset) { Name = $"datasets/abcdefabcd{n:00}" }) },
        NextPageToken = Convert.ToBase64String(new byte[48]),
    };

    public override Task<ListDatasetsResponse> List(PingRequest request, ServerCallContext context) => Task.FromResult(Page);

    public override Task<PingResponse> Ping(PingRequest request, ServerCallContext context) => Task.FromResult(Answer);
}
