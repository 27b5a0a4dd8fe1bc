using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Server.Transfers.Model;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// exchange.v1.TransferService: parses and checks each request, then hands it on: uploads to the
/// <see cref="UploadPipeline"/> (a revision only when complete), downloads, decided before the
/// first byte by the <see cref="TransferStore"/>, to the <see cref="DownloadStreamer"/> (stopped by
/// revocation or expiry, ending with a receipt proving the transfer was logged).
/// </summary>
[BindServiceMethod(typeof(TransferService), nameof(BindService))]
internal sealed class TransferService(TransferStore transfers, UploadPipeline uploads, DownloadStreamer downloads, AuditStore audit,
    CheckpointSigner signer, Revocations revocations, Lineage.LineageStops lineageStops, PageTokens pageTokens, Observability.ExchangeTelemetry telemetry)
    : V1.TransferService.TransferServiceBase
{
    /// <summary>Found by grpc-dotnet through the attribute above: the generated binding, with Upload's chunks read into pooled buffers.</summary>
    public static void BindService(ServiceBinderBase binder, V1.TransferService.TransferServiceBase service) =>
        V1.TransferService.BindService(new TransferServiceBinder(binder), service);

    /// <summary>What gRPC reflection describes for the type that carries the binding attribute: the generated service.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => V1.TransferService.Descriptor;

    public override async Task<V1.UploadResponse> Upload(IAsyncStreamReader<V1.UploadRequest> requestStream, ServerCallContext context)
    {
        var caller = Caller.From(context);
        using var messages = uploads.Receive(requestStream, context);
        if (!await messages.NextAsync() || messages.Current.PayloadCase != V1.UploadRequest.PayloadOneofCase.Header)
        {
            throw Errors.InvalidArgument("The first message of an upload must be a header (dataset, media_type, optional size_bytes and sha256).");
        }

        var header = messages.Current.Header;
        var dataset = DatasetId.Parse(header.Dataset, "header.dataset");
        var declared = Declared(header);

        var revision = Errors.Allowed(await uploads.ReserveAsync(caller, dataset, context.CancellationToken), telemetry);
        var stored = await uploads.StoreAsync(caller, revision, declared, messages, context.CancellationToken);
        return new V1.UploadResponse { Revision = stored.ToProto() };
    }

    public override async Task Download(V1.DownloadRequest request, IServerStreamWriter<V1.DownloadResponse> responseStream, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var grant = GrantId.Parse(request.Grant, "grant");
        RevisionId? revision = request.Revision.Length == 0 ? null : RevisionId.Parse(request.Revision, "revision");
        TransferId? resume = request.Transfer.Length == 0 ? null : TransferId.Parse(request.Transfer, "transfer");
        if (request.Purpose.Length == 0)
        {
            throw Errors.InvalidArgument("purpose is required: one of the purposes the grant allows.");
        }

        // Checked against the grant only after this, so a refused download records a bounded, clean purpose.
        TermsValidation.ValidatePurpose(request.Purpose, "purpose");

        if (request.Offset < 0)
        {
            throw Errors.InvalidArgument("offset must not be negative.");
        }

        if (request.Offset > 0 && resume is null && request.RequestId.Length == 0)
        {
            throw Errors.InvalidArgument("An offset resumes an interrupted transfer: give its name in transfer.");
        }

        // Watched from before the decision, so a revocation committed just after it still stops the stream.
        using var lease = revocations.Watch(grant);
        IdempotencyKeys.Validate(request.RequestId);
        // A retry names the same grant, revision and purpose; where it resumes from may differ.
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => (r.RequestId, r.Offset, r.Transfer) = ("", 0, ""));
        var ask = new DownloadAsk(grant, revision, request.Purpose, request.Offset, resume, request.RequestId, fingerprint, request.Format);
        var start = Errors.Allowed(await transfers.StartAsync(caller, ask, context.CancellationToken), telemetry);
        // Watched once the dataset is known, then checked again: lineage stopping its downloads just after the decision still stops this one.
        var dataset = start.Grant.Dataset;
        using var lineage = lineageStops.Watch(dataset);
        if (await transfers.LineageStoppedAsync(dataset, context.CancellationToken))
        {
            lineageStops.Stop(dataset);
        }

        await downloads.StreamAsync(caller, start, request.Offset, lease.Stopped, lineage.Stopped, responseStream, context);
    }

    public override async Task<V1.PreviewDeliveryResponse> PreviewDelivery(V1.PreviewDeliveryRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var grant = GrantId.Parse(request.Grant, "grant");
        RevisionId? revision = request.Revision.Length == 0 ? null : RevisionId.Parse(request.Revision, "revision");
        if (request.RowCount is < 0 or > 100)
        {
            throw Errors.InvalidArgument($"row_count must be from 1 to 100 (0: 10), not {request.RowCount}.");
        }

        var (stored, output, allowed) = Errors.Allowed(await transfers.PreviewAsync(caller, grant, revision, context.CancellationToken), telemetry);
        var preview = await downloads.PreviewAsync(stored, output, allowed, request.RowCount == 0 ? 10 : request.RowCount, context.CancellationToken);
        await transfers.RecordPreviewAsync(caller, allowed, stored.Revision.Id, output);
        return preview;
    }

    public override async Task<V1.GetTransferResponse> GetTransfer(V1.GetTransferRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = TransferId.Parse(request.Name);
        var transfer = await transfers.GetAsync(id, context.CancellationToken);
        if (transfer is null || !TransferPolicy.CanSee(caller, transfer))
        {
            throw Errors.NotFound(id.Name, exists: transfer is not null);
        }

        var found = transfer.ToProto();
        if (transfer.State == TransferState.Completed && await transfers.ReceiptIndexAsync(id, context.CancellationToken) is { } index)
        {
            found.Receipt = await audit.ReceiptAsync(index, signer, context.CancellationToken);
        }

        return new V1.GetTransferResponse { Transfer = found };
    }

    public override async Task<V1.ListTransfersResponse> ListTransfers(V1.ListTransfersRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = Paging.PageSize.Resolve(request.PageSize);
        GrantId? grant = request.Grant.Length == 0 ? null : GrantId.Parse(request.Grant, "grant");
        DatasetId? dataset = request.Dataset.Length == 0 ? null : DatasetId.Parse(request.Dataset, "dataset");
        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known transfer state.");
        }

        TransferState? state = request.State == V1.TransferState.Unspecified ? null : (TransferState)(int)request.State;
        var scope = string.Join('\n', "ListTransfers", caller.Participant, grant?.Value ?? "", dataset?.Value ?? "", (int)request.State);
        var (page, next) = await transfers.ListAsync(caller, grant, dataset, state, pageTokens.Decode(request.PageToken, scope), pageSize,
            context.CancellationToken);
        var response = new V1.ListTransfersResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Transfers.Add(page.Select(TransferMapping.ToProto));
        return response;
    }

    /// <summary>What the header declares, or INVALID_ARGUMENT naming the field that is not as it should be.</summary>
    private static DeclaredUpload Declared(V1.UploadHeader header)
    {
        if (!header.MediaType.Contains('/', StringComparison.Ordinal) || header.MediaType.Any(char.IsWhiteSpace))
        {
            throw Errors.InvalidArgument("header.media_type is required: an IANA media type such as text/csv or application/parquet.");
        }

        if (header.SizeBytes < 0)
        {
            throw Errors.InvalidArgument("header.size_bytes must not be negative (0 means not declared).");
        }

        if (!header.Sha256.IsEmpty && header.Sha256.Length != 32)
        {
            throw Errors.InvalidArgument("header.sha256, when given, is the 32 raw bytes of the SHA-256.");
        }

        var tabular = Tables.TableFormats.Of(header.MediaType) != V1.TableFormat.Unspecified;
        if (!tabular && (header.Schema is not null || header.Strict))
        {
            throw Errors.InvalidArgument(
                $"header.schema and header.strict are for tables; '{header.MediaType}' is not one (tables are text/csv, application/vnd.apache.parquet, application/vnd.apache.arrow.stream and application/vnd.apache.arrow.file).");
        }

        if (header.Schema is { } schema)
        {
            DeclaredSchema(schema);
        }

        return new DeclaredUpload(header.MediaType, header.SizeBytes, header.Sha256.IsEmpty ? null : header.Sha256.ToByteArray(),
            header.Schema, header.Strict);
    }

    /// <summary>Declared columns have names, each once, and known types.</summary>
    private static void DeclaredSchema(V1.Schema schema)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            var column = schema.Columns[i];
            if (string.IsNullOrWhiteSpace(column.Name) || column.Name.Length > 256)
            {
                throw Errors.InvalidArgument($"header.schema.columns[{i}].name is required: the column's name in the header row (at most 256 characters).");
            }

            if (!names.Add(column.Name))
            {
                throw Errors.InvalidArgument($"header.schema declares the column '{column.Name}' twice.");
            }

            if (!Enum.IsDefined(column.Type))
            {
                throw Errors.InvalidArgument($"header.schema.columns[{i}].type ({(int)column.Type}) is not a known column type.");
            }
        }
    }
}
