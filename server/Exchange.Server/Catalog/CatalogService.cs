using Exchange.Server.Audit;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Catalog;

/// <summary>exchange.v1.CatalogService: maps requests to the catalog store under <see cref="DatasetPolicy"/>.</summary>
internal sealed class CatalogService(CatalogStore store, AuditStore audit, PageTokens pageTokens, TimeProvider time)
    : V1.CatalogService.CatalogServiceBase
{
    public override async Task<CreateDatasetResponse> CreateDataset(CreateDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (!caller.IsProvider)
        {
            var denied = Errors.PermissionDenied("Only participants with the 'provider' role may create datasets.");
            await audit.RecordAsync(new AuditEntry(caller.Participant, AuditActions.DatasetCreate, "datasets", AuditOutcome.Denied,
                Details: new Dictionary<string, string> { ["reason"] = denied.Status.Detail }), CancellationToken.None);
            throw denied;
        }

        if (request.Dataset is null)
        {
            throw Errors.InvalidArgument("dataset is required.");
        }

        var now = time.GetUtcNow();
        DatasetValidation.Validate(request.Dataset, DatasetValidation.UpdatableFields, now);
        IdempotencyKeys.Validate(request.RequestId);
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => r.RequestId = "");

        var dataset = await store.CreateAsync(caller.Participant, request.Dataset, request.RequestId, fingerprint,
            context.CancellationToken);
        return new CreateDatasetResponse { Dataset = dataset };
    }

    public override async Task<GetDatasetResponse> GetDataset(GetDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetNames.ParseId(request.Name);
        var dataset = await store.GetVisibleAsync(id, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Name);
        return new GetDatasetResponse { Dataset = dataset };
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
        response.Datasets.Add(page);
        return response;
    }

    public override async Task<UpdateDatasetResponse> UpdateDataset(UpdateDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        if (request.Dataset is null)
        {
            throw Errors.InvalidArgument("dataset is required, with its name and the fields to change.");
        }

        var id = DatasetNames.ParseId(request.Dataset.Name, "dataset.name");
        var paths = request.UpdateMask is null || request.UpdateMask.Paths.Count == 0
            ? DatasetValidation.UpdatableFields
            : request.UpdateMask.Paths.Distinct(StringComparer.Ordinal).ToList();
        foreach (var path in paths.Where(p => !DatasetValidation.UpdatableFields.Contains(p)))
        {
            throw Errors.InvalidArgument(
                $"update_mask path '{path}' cannot be updated; updatable fields are: {string.Join(", ", DatasetValidation.UpdatableFields)}.");
        }

        var now = time.GetUtcNow();
        DatasetValidation.Validate(request.Dataset, paths, now);

        var updated = await store.ChangeAsync(id, caller.Participant, AuditActions.DatasetUpdate, (dataset, holdsGrant) =>
        {
            RequireEditor(caller, dataset, holdsGrant, "update");
            foreach (var path in paths)
            {
                Apply(path, request.Dataset, dataset);
            }

            return new Dictionary<string, string> { ["fields"] = string.Join(",", paths) };
        }, context.CancellationToken);
        return new UpdateDatasetResponse { Dataset = updated };
    }

    public override async Task<PublishDatasetResponse> PublishDataset(PublishDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetNames.ParseId(request.Name);
        var published = await store.ChangeAsync(id, caller.Participant, AuditActions.DatasetPublish, (dataset, holdsGrant) =>
        {
            RequireEditor(caller, dataset, holdsGrant, "publish");
            if (dataset.State == DatasetState.Listed)
            {
                throw Errors.FailedPrecondition($"'{dataset.Name}' is already listed.");
            }

            if (dataset.LatestRevision.Length == 0)
            {
                throw Errors.FailedPrecondition($"'{dataset.Name}' has no revision yet; upload one before publishing it.");
            }

            dataset.State = DatasetState.Listed;
            dataset.DelistReason = "";
            return null;
        }, context.CancellationToken);
        return new PublishDatasetResponse { Dataset = published };
    }

    public override async Task<DelistDatasetResponse> DelistDataset(DelistDatasetRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = DatasetNames.ParseId(request.Name);
        var delisted = await store.ChangeAsync(id, caller.Participant, AuditActions.DatasetDelist, (dataset, holdsGrant) =>
        {
            if (!DatasetPolicy.CanSee(caller, dataset, holdsGrant))
            {
                throw Errors.Hidden(dataset.Name);
            }

            if (!DatasetPolicy.CanDelist(caller, dataset))
            {
                throw Errors.PermissionDenied($"Only the provider of '{dataset.Name}' or an operator may delist it.");
            }

            if (dataset.State != DatasetState.Listed)
            {
                throw Errors.FailedPrecondition(dataset.State == DatasetState.Draft
                    ? $"'{dataset.Name}' is a draft; only a listed dataset can be delisted."
                    : $"'{dataset.Name}' is already delisted.");
            }

            dataset.State = DatasetState.Delisted;
            dataset.DelistReason = request.Reason;
            return request.Reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = request.Reason };
        }, context.CancellationToken);
        return new DelistDatasetResponse { Dataset = delisted };
    }

    public override async Task<GetRevisionResponse> GetRevision(GetRevisionRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var (datasetId, number) = DatasetNames.ParseRevision(request.Name);
        _ = await store.GetVisibleAsync(datasetId, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Name);

        var revision = await store.GetRevisionAsync(datasetId, number, context.CancellationToken)
            ?? throw Errors.NotFound(request.Name);
        return new GetRevisionResponse { Revision = revision };
    }

    public override async Task<ListRevisionsResponse> ListRevisions(ListRevisionsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var datasetId = DatasetNames.ParseId(request.Parent, "parent");
        var pageSize = PageSize.Resolve(request.PageSize);
        var scope = $"ListRevisions\n{caller.Participant}\n{datasetId}";
        var after = pageTokens.Decode(request.PageToken, scope);
        _ = await store.GetVisibleAsync(datasetId, caller, context.CancellationToken) ?? throw Errors.NotFound(request.Parent);

        var (page, next) = await store.ListRevisionsAsync(datasetId, after, pageSize, context.CancellationToken);
        var response = new ListRevisionsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Revisions.Add(page);
        return response;
    }

    private static void RequireEditor(Caller caller, Dataset dataset, bool holdsGrant, string action)
    {
        if (!DatasetPolicy.CanSee(caller, dataset, holdsGrant))
        {
            throw Errors.Hidden(dataset.Name);
        }

        if (!DatasetPolicy.CanEdit(caller, dataset))
        {
            throw Errors.PermissionDenied($"Only the provider of '{dataset.Name}' may {action} it.");
        }
    }

    private static void Apply(string path, Dataset from, Dataset to)
    {
        switch (path)
        {
            case "title":
                to.Title = from.Title;
                break;
            case "description":
                to.Description = from.Description;
                break;
            case "tags":
                to.Tags.Clear();
                to.Tags.Add(from.Tags);
                break;
            case "classification":
                to.Classification = from.Classification;
                break;
            case "auto_approval_terms":
                to.AutoApprovalTerms = from.AutoApprovalTerms?.Clone();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(path), path, "Not an updatable field.");
        }
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

        var text = request.Query.Trim();
        return new DatasetQuery(
            text.Length == 0 ? null : text,
            request.Tag.Length == 0 ? null : request.Tag,
            request.Provider.Length == 0 ? null : request.Provider,
            request.Classification,
            request.State);
    }
}
