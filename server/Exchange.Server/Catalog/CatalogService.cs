using Exchange.Server.Observability;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Catalog;

/// <summary>
/// exchange.v1.CatalogService: parses and validates each request, runs the catalog operation
/// (<see cref="CatalogStore"/>, under <see cref="DatasetPolicy"/>) and answers with its result.
/// </summary>
internal sealed class CatalogService(CatalogStore store, RevisionStore revisions, PageTokens pageTokens, TimeProvider time, ExchangeTelemetry telemetry)
    : V1.CatalogService.CatalogServiceBase
{
    public override async Task<CreateDatasetResponse> CreateDataset(CreateDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        Model.DatasetFields? draft = null;
        var fingerprint = Array.Empty<byte>();
        // A caller who may not create datasets is refused (by the operation, which records it) whatever it sent.
        if (DatasetPolicy.CanCreate(caller))
        {
            if (request.Dataset is null)
            {
                throw Errors.InvalidArgument("dataset is required.");
            }

            DatasetValidation.Validate(request.Dataset, DatasetValidation.UpdatableFields, time.GetUtcNow());
            IdempotencyKeys.Validate(request.RequestId);
            fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");
            draft = CatalogMapping.Fields(request.Dataset);
        }

        var created = await store.CreateAsync(caller, draft, request.RequestId, fingerprint, context.CancellationToken);
        return new CreateDatasetResponse { Dataset = Errors.Allowed(created, telemetry).ToProto() };
    }

    public override async Task<GetDatasetResponse> GetDataset(GetDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetId.Parse(request.Name);
        var dataset = await store.GetVisibleAsync(id, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Name);
        return new GetDatasetResponse { Dataset = dataset.ToProto() };
    }

    public override async Task<ListDatasetsResponse> ListDatasets(ListDatasetsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize);
        var query = ParseQuery(request);
        var scope = query.Scope(caller.Participant);
        var after = pageTokens.Decode(request.PageToken, scope);

        var (page, next) = await store.ListAsync(query, caller.Participant, caller.ReadsEverything, after, pageSize,
            context.CancellationToken);
        var response = new ListDatasetsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Datasets.Add(page.Select(d => d.ToProto()));
        return response;
    }

    public override async Task<UpdateDatasetResponse> UpdateDataset(UpdateDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (request.Dataset is null)
        {
            throw Errors.InvalidArgument("dataset is required, with its name and the fields to change.");
        }

        var id = DatasetId.Parse(request.Dataset.Name, "dataset.name");
        var paths = request.UpdateMask is null || request.UpdateMask.Paths.Count == 0
            ? DatasetValidation.UpdatableFields
            : request.UpdateMask.Paths.Distinct(StringComparer.Ordinal).ToList();
        foreach (var path in paths.Where(p => !DatasetValidation.UpdatableFields.Contains(p)))
        {
            throw Errors.InvalidArgument(
                $"update_mask path '{path}' cannot be updated; updatable fields are: {string.Join(", ", DatasetValidation.UpdatableFields)}.");
        }

        DatasetValidation.Validate(request.Dataset, paths, time.GetUtcNow());

        var updated = await store.UpdateAsync(caller, id, CatalogMapping.Fields(request.Dataset), paths, context.CancellationToken);
        return new UpdateDatasetResponse { Dataset = Errors.Allowed(updated, telemetry).ToProto() };
    }

    public override async Task<PublishDatasetResponse> PublishDataset(PublishDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetId.Parse(request.Name);
        var published = await store.PublishAsync(caller, id, context.CancellationToken);
        return new PublishDatasetResponse { Dataset = Errors.Allowed(published, telemetry).ToProto() };
    }

    public override async Task<DelistDatasetResponse> DelistDataset(DelistDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetId.Parse(request.Name);
        var delisted = await store.DelistAsync(caller, id, request.Reason, context.CancellationToken);
        return new DelistDatasetResponse { Dataset = Errors.Allowed(delisted, telemetry).ToProto() };
    }

    public override async Task<GetRevisionResponse> GetRevision(GetRevisionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = RevisionId.Parse(request.Name);
        _ = await store.GetVisibleAsync(id.Dataset, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Name);

        var revision = await revisions.GetAsync(id, context.CancellationToken) ?? throw Errors.NotFound(request.Name);
        return new GetRevisionResponse { Revision = revision.ToProto() };
    }

    public override async Task<ListRevisionsResponse> ListRevisions(ListRevisionsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetId.Parse(request.Parent, "parent");
        var pageSize = PageSize.Resolve(request.PageSize);
        var scope = $"ListRevisions\n{caller.Participant}\n{id.Value}";
        var after = pageTokens.Decode(request.PageToken, scope);
        _ = await store.GetVisibleAsync(id, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Parent);

        var (page, next) = await revisions.ListAsync(id, after, pageSize, context.CancellationToken);
        var response = new ListRevisionsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Revisions.Add(page.Select(r => r.ToProto()));
        return response;
    }

    private static DatasetQuery ParseQuery(ListDatasetsRequest request)
    {
        if (request.Tag.Length > 0)
        {
            DatasetValidation.ValidateTag(request.Tag, "tag");
        }

        if (request.Provider.Length > 0 && !ParticipantId.IsValid(request.Provider))
        {
            throw Errors.InvalidArgument($"provider '{request.Provider}' is not a participant id ({ParticipantId.Rule}).");
        }

        if (!Enum.IsDefined(request.Classification))
        {
            throw Errors.InvalidArgument($"classification {(int)request.Classification} is not a known classification.");
        }

        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known dataset state.");
        }

        if (!(request.MinCompleteness is >= 0 and <= 1))
        {
            throw Errors.InvalidArgument($"min_completeness {request.MinCompleteness} is not a share from 0 to 1 (0.95: 95% of cells filled).");
        }

        var text = request.Query.Trim();
        return new DatasetQuery(
            text.Length == 0 ? null : text,
            request.Tag.Length == 0 ? null : request.Tag,
            request.Provider.Length == 0 ? null : request.Provider,
            CatalogMapping.FromProto(request.Classification),
            CatalogMapping.FromProto(request.State),
            request.MinCompleteness > 0 ? request.MinCompleteness : null);
    }
}
