using System.Security.Cryptography;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Transfers;

/// <summary>
/// exchange.v1.TransferService: uploads stream through encryption to disk and become a revision
/// only when complete; downloads are decided before the first byte, stopped by revocation or
/// expiry, and end with a receipt proving the transfer was logged.
/// </summary>
[BindServiceMethod(typeof(TransferService), nameof(BindService))]
internal sealed partial class TransferService(TransferStore store, UploadPipeline uploads, AuditStore audit, CheckpointSigner signer, IBlobStore blobs, KeyRing keys,
    GrantSignals signals, LiveTransfers live, PageTokens pageTokens, IOptions<Hosting.ExchangeOptions> options, TimeProvider time, Observability.ExchangeTelemetry telemetry,
    ILogger<TransferService> logger)
    : V1.TransferService.TransferServiceBase
{
    private TransferOptions Limits => options.Value.Transfers;

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
        return new V1.UploadResponse { Revision = TransferMapping.RevisionToProto(stored) };
    }

    public override async Task Download(DownloadRequest request, IServerStreamWriter<DownloadResponse> responseStream, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var grantId = AccessNames.ParseGrant(request.Grant, "grant");
        (string, long)? revision = request.Revision.Length == 0 ? null : DatasetNames.ParseRevision(request.Revision, "revision");
        var resumeId = request.Transfer.Length == 0 ? null : TransferNames.Parse(request.Transfer, "transfer");
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

        if (request.Offset > 0 && resumeId is null && request.RequestId.Length == 0)
        {
            throw Errors.InvalidArgument("An offset resumes an interrupted transfer: give its name in transfer.");
        }

        using var lease = signals.Watch(AccessNames.Grant(grantId));
        IdempotencyKeys.Validate(request.RequestId);
        // A retry names the same grant, revision and purpose; where it resumes from may differ.
        var fingerprint = IdempotencyKeys.Fingerprint(request, r => (r.RequestId, r.Offset, r.Transfer) = ("", 0, ""));
        var start = await store.StartAsync(caller, grantId, revision, request.Purpose, request.Offset, resumeId, request.RequestId, fingerprint,
            context.CancellationToken);
        if (start.Denial is not null)
        {
            throw start.Denial;
        }

        var (transfer, stored, grant) = (start.Transfer!, start.Revision!, start.Grant!);
        using var stream = live.Add(transfer.Name["transfers/".Length..], start.Attempt, request.Offset);
        // The expiry runs on the injected clock, like every other time the gateway reads. Timers reach about
        // 49 days; a download still running by then is stopped at that point and may resume.
        using var expires = grant.Terms.ExpireTime is { } expiry
            ? new CancellationTokenSource(Min(Max(expiry.ToDateTimeOffset() - time.GetUtcNow(), TimeSpan.Zero), TimeSpan.FromDays(40)), time)
            : new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lease.Revoked, stream.Superseded, expires.Token);

        var finished = false;
        var started = time.GetTimestamp();
        try
        {
            await responseStream.WriteAsync(new DownloadResponse
            {
                Header = new DownloadHeader
                {
                    Transfer = transfer.Name,
                    Revision = stored.Revision.Name,
                    SizeBytes = stored.Revision.SizeBytes,
                    Sha256 = stored.Revision.Sha256,
                },
            }, context.CancellationToken);

            // From offset 0 the bytes sent are exactly the authenticated plaintext, whose SHA-256 was
            // computed at upload; only a resumed part needs hashing.
            using var hash = request.Offset == 0 ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var dataKey = keys.Unwrap(stored.WrappedKey, stored.KekId, stored.Revision.Name);
            var from = RevisionReader.StartOf(request.Offset, stored.SegmentSize);
            try
            {
                await using var file = await blobs.OpenReadAsync(stored.BlobId, from, stop.Token);
                await foreach (var chunk in RevisionReader.ReadAsync(file, dataKey, stored.Revision.Name, stored.Revision.SizeBytes,
                    stored.SegmentSize, request.Offset, Limits.ChunkSize, stop.Token))
                {
                    hash?.AppendData(chunk.Span);
                    // Checked between writes rather than passed to WriteAsync: a cancelled write resets the
                    // HTTP/2 stream, and the consumer would see a broken connection instead of the reason.
                    stop.Token.ThrowIfCancellationRequested();
                    var write = responseStream.WriteAsync(new DownloadResponse
                    {
                        Chunk = new DownloadChunk { Offset = stream.Sent, Data = UnsafeByteOperations.UnsafeWrap(chunk) },
                    }, context.CancellationToken);
                    try
                    {
                        if (!write.IsCompletedSuccessfully)
                        {
                            // A consumer that stops reading must not hold a revoked or expired stream open.
                            await write.WaitAsync(stop.Token);
                        }
                    }
                    finally
                    {
                        // Counted once its write has completed: a resume may start up to here and never past it, so no
                        // receipt covers bytes whose write did not finish (a consumer that got more resumes a little earlier).
                        if (write.IsCompletedSuccessfully)
                        {
                            stream.Advance(chunk.Length);
                        }
                    }

                    telemetry.Transferred("download", chunk.Length);
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dataKey);
            }

            var sha256 = hash?.GetHashAndReset() ?? stored.Revision.Sha256.ToByteArray();
            finished = true;
            var index = await store.FinishAsync(caller, transfer, grant, start.Attempt, completed: true, stream.Sent,
                Convert.ToHexStringLower(stored.Revision.Sha256.Span))
                ?? throw new RpcException(new Status(StatusCode.Aborted, $"'{transfer.Name}' was resumed elsewhere; this stream ends without a receipt."));
            var receipt = await audit.ReceiptAsync(index, signer, CancellationToken.None);
            await responseStream.WriteAsync(new DownloadResponse
            {
                Trailer = new DownloadTrailer { Sha256 = ByteString.CopyFrom(sha256), Receipt = receipt },
            }, context.CancellationToken);
            telemetry.TransferEnded("download", "completed", time.GetElapsedTime(started));
        }
        catch (Exception ex) when (!finished)
        {
            var (status, reason) = stream.WasSuperseded
                ? (new Status(StatusCode.Aborted, $"'{transfer.Name}' was failed by another gateway, which took this one for gone; resume it."), "superseded")
                : Classify(ex, lease.Revoked.IsCancellationRequested, context.CancellationToken.IsCancellationRequested);

            // The transfer is FAILED either way (it may resume); a consumer's cancel is no failure of the gateway's, and is logged as what it is.
            var cancelled = status.StatusCode == StatusCode.Cancelled;
            telemetry.TransferEnded("download", cancelled ? "cancelled" : "failed", time.GetElapsedTime(started));
            await store.FinishAsync(caller, transfer, grant, start.Attempt, completed: false, stream.Sent, reason);
            if (cancelled)
            {
                LogTransferCancelled(transfer.Name, stream.Sent);
            }
            else
            {
                LogTransferFailed(transfer.Name, stream.Sent, reason);
            }

            throw new RpcException(status);
        }
    }

    public override async Task<GetTransferResponse> GetTransfer(GetTransferRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var id = TransferNames.Parse(request.Name);
        var transfer = await store.GetAsync(id, context.CancellationToken);
        if (transfer is null || !AccessPolicy.CanSee(caller, transfer))
        {
            throw Errors.NotFound(request.Name, exists: transfer is not null);
        }

        if (transfer.State == TransferState.Completed && await store.ReceiptIndexAsync(id, context.CancellationToken) is { } index)
        {
            transfer.Receipt = await audit.ReceiptAsync(index, signer, context.CancellationToken);
        }

        return new GetTransferResponse { Transfer = transfer };
    }

    public override async Task<ListTransfersResponse> ListTransfers(ListTransfersRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = Paging.PageSize.Resolve(request.PageSize);
        var grantId = request.Grant.Length == 0 ? null : AccessNames.ParseGrant(request.Grant, "grant");
        var datasetId = request.Dataset.Length == 0 ? null : DatasetNames.ParseId(request.Dataset, "dataset");
        if (!Enum.IsDefined(request.State))
        {
            throw Errors.InvalidArgument($"state {(int)request.State} is not a known transfer state.");
        }

        var scope = string.Join('\n', "ListTransfers", caller.Participant, grantId ?? "", datasetId ?? "", (int)request.State);
        var (page, next) = await store.ListAsync(caller, grantId, datasetId, (int)request.State, pageTokens.Decode(request.PageToken, scope),
            pageSize, context.CancellationToken);
        var response = new ListTransfersResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Transfers.Add(page);
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

        return new DeclaredUpload(header.MediaType, header.SizeBytes, header.Sha256.IsEmpty ? null : header.Sha256.ToByteArray());
    }

    private static (Status Status, string Reason) Classify(Exception ex, bool revoked, bool callerGone) => ex switch
    {
        _ when revoked => (new Status(StatusCode.PermissionDenied, "The grant was revoked during the download; the transfer stopped."), "grant revoked"),
        RpcException { StatusCode: StatusCode.DataLoss } dataLoss => (dataLoss.Status, "stored bytes damaged"),
        CryptographicException => (new Status(StatusCode.DataLoss, "The revision's data key cannot be unwrapped; nothing more is sent."), "data key unavailable"),
        _ when callerGone => (new Status(StatusCode.Cancelled, "The download was cancelled."), "cancelled by the consumer"),
        OperationCanceledException => (new Status(StatusCode.PermissionDenied, "The grant expired during the download; the transfer stopped."), "grant expired"),
        RpcException rpc => (rpc.Status, rpc.Status.Detail),
        _ when StorageFull.Is(ex) => (new Status(StatusCode.ResourceExhausted,
            "The gateway's storage is full, so the transfer could not be recorded; resume it once its operator has freed space."), "storage full"),
        IOException => (new Status(StatusCode.Unavailable, "Reading the stored revision failed; resume the transfer later."), "storage read failed"),
        _ => (new Status(StatusCode.Internal, "The download failed on the server; resume the transfer later."), "internal error"),
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "{Transfer} stopped after {Bytes} bytes: {Reason}")]
    private partial void LogTransferFailed(string transfer, long bytes, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "{Transfer} cancelled by the consumer after {Bytes} bytes; it may resume")]
    private partial void LogTransferCancelled(string transfer, long bytes);
}
