using Exchange.Server.Access;
using Exchange.Server.Catalog;
using Exchange.Server.Observability;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Lineage;

/// <summary>exchange.v1.LineageService: validates each request, runs it on <see cref="LineageStore"/> and answers with the edges and datasets.</summary>
internal sealed class LineageService(LineageStore store, ExchangeTelemetry telemetry) : V1.LineageService.LineageServiceBase
{
    public override async Task<DeclareDerivationResponse> DeclareDerivation(DeclareDerivationRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var dataset = DatasetId.Parse(request.Dataset, "dataset");
        if (request.Sources.Count is 0 or > LineageStore.MaxSources)
        {
            throw Errors.InvalidArgument($"sources must name 1 to {LineageStore.MaxSources} revisions, each with the grant it was received under.");
        }

        var sources = request.Sources
            .Select((s, i) => (RevisionId.Parse(s.Revision, $"sources[{i}].revision"), GrantId.Parse(s.Grant, $"sources[{i}].grant")))
            .ToList();
        if (sources.Distinct().Count() != sources.Count)
        {
            throw Errors.InvalidArgument("sources names the same revision and grant twice.");
        }

        IdempotencyKeys.Validate(request.RequestId);
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");
        var declared = Errors.Allowed(await store.DeclareAsync(caller, dataset, sources, request.RequestId, fingerprint, context.CancellationToken), telemetry);
        var response = new DeclareDerivationResponse();
        response.Derivations.Add(declared);
        return response;
    }

    public override async Task<GetLineageResponse> GetLineage(GetLineageRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var dataset = DatasetId.Parse(request.Dataset, "dataset");
        if (!Enum.IsDefined(request.Direction))
        {
            throw Errors.InvalidArgument($"direction {(int)request.Direction} is not UP, DOWN or unset (both).");
        }

        if (request.Depth is < 0 or > LineageStore.MaxDepth)
        {
            throw Errors.InvalidArgument($"depth must be 1 to {LineageStore.MaxDepth} (0: {LineageStore.DefaultDepth}).");
        }

        var (nodes, edges) = await store.GraphAsync(caller, dataset, request.Direction, request.Depth == 0 ? LineageStore.DefaultDepth : request.Depth,
            context.CancellationToken);
        var response = new GetLineageResponse();
        response.Nodes.Add(nodes);
        response.Derivations.Add(edges);
        return response;
    }
}
