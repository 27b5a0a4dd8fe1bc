using System.Security.Cryptography;
using Exchange.Server.Access.Model;
using Exchange.Server.Audit;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Transfers;

/// <summary>
/// Streams an allowed download: the header, the revision's bytes decrypted from where it asked,
/// stopped by revocation, expiry, the consumer or another gateway's taking over; then the
/// transfer is finished (COMPLETED with a receipt proving it was logged, or FAILED, to resume).
/// </summary>
internal sealed partial class DownloadStreamer(TransferStore transfers, Access.IGrants grants, AuditStore audit, CheckpointSigner signer, IBlobStore blobs,
    KeyRing keys, Tables.MaskKeys maskKeys, LiveTransfers live, IOptions<Hosting.ExchangeOptions> options, TimeProvider time,
    Observability.ExchangeTelemetry telemetry, ILogger<DownloadStreamer> logger)
{
    private TransferOptions Limits => options.Value.Transfers;

    /// <summary>
    /// Streams <paramref name="start"/> from <paramref name="offset"/>; <paramref name="revoked"/> is cancelled when its grant is
    /// revoked, <paramref name="lineageStopped"/> when lineage stops its dataset's downloads.
    /// </summary>
    public async Task StreamAsync(Caller caller, TransferStart start, long offset, CancellationToken revoked, CancellationToken lineageStopped,
        IServerStreamWriter<V1.DownloadResponse> responseStream, ServerCallContext context)
    {
        var (transfer, stored, grant, output) = (start.Transfer, start.Revision, start.Grant, start.Output);
        var revision = stored.Revision;
        using var stream = live.Add(transfer.Id, start.Attempt, offset);
        // The grant's end runs on the injected clock, like every other time the gateway reads.
        using var ends = new GrantEndWatch(grant, grants, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource([context.CancellationToken, revoked, lineageStopped, stream.Superseded, ends.Ended]);

        var finished = false;
        var stalled = false;
        var started = time.GetTimestamp();
        try
        {
            await responseStream.WriteAsync(new V1.DownloadResponse
            {
                Header = output is null
                    ? new V1.DownloadHeader
                    {
                        Transfer = transfer.Id.Name,
                        Revision = revision.Id.Name,
                        SizeBytes = revision.SizeBytes,
                        Sha256 = ByteString.CopyFrom(revision.Sha256),
                    }
                    : new V1.DownloadHeader
                    {
                        Transfer = transfer.Id.Name,
                        Revision = revision.Id.Name,
                        Format = output.Format,
                        ViewSha256 = output.View is { } view ? ByteString.CopyFrom(Tables.ViewDigest.Of(view)) : ByteString.Empty,
                    },
            }, context.CancellationToken);

            // From offset 0 the bytes sent are exactly the authenticated plaintext, whose SHA-256 was
            // computed at upload; only a resumed part needs hashing. An encoding is hashed whole, from
            // its first byte, as well: the log records what the whole delivery was.
            using var hash = offset == 0 ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var whole = output is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var dataKey = keys.Unwrap(stored.WrappedKey, stored.KekId, revision.Id.Name);
            long produced = 0;
            try
            {
                // A table is read through a seekable decrypting stream (Parquet keeps its metadata at its end); bytes as stored, in order.
                await using var file = output is null ? await blobs.OpenReadAsync(stored.BlobId, RevisionReader.StartOf(offset, stored.SegmentSize), stop.Token) : null;
                var chunks = output is null
                    ? RevisionReader.ReadAsync(file!, dataKey, revision.Id.Name, revision.SizeBytes, stored.SegmentSize, offset, Limits.ChunkSize, stop.Token)
                    : TableDelivery.EncodeAsync(new RevisionStream(blobs, stored.BlobId, dataKey, revision.Id.Name, revision.SizeBytes, stored.SegmentSize),
                        output, new Tables.ViewPlan(output.View, output.Columns, maskKeys.For(grant.Id.Name)), Limits.ChunkSize, stop.Token);
                await foreach (var produce in chunks)
                {
                    var chunk = produce;
                    if (whole is not null)
                    {
                        // An encoding starts from its first byte every time: what lies before the offset is hashed, not sent.
                        whole.AppendData(chunk.Span);
                        var skip = (int)Math.Clamp(offset - produced, 0, chunk.Length);
                        produced += chunk.Length;
                        chunk = chunk[skip..];
                        if (chunk.IsEmpty)
                        {
                            continue;
                        }
                    }

                    hash?.AppendData(chunk.Span);
                    // Checked between writes rather than passed to WriteAsync: a cancelled write resets the
                    // HTTP/2 stream, and the consumer would see a broken connection instead of the reason.
                    stop.Token.ThrowIfCancellationRequested();
                    var write = responseStream.WriteAsync(new V1.DownloadResponse
                    {
                        Chunk = new V1.DownloadChunk { Offset = stream.Sent, Data = UnsafeByteOperations.UnsafeWrap(chunk) },
                    }, context.CancellationToken);
                    try
                    {
                        if (!write.IsCompletedSuccessfully)
                        {
                            // A consumer that stops reading must not hold a revoked or expired stream open, nor any for long.
                            try
                            {
                                await write.WaitAsync(Limits.StallTimeout, time, stop.Token);
                            }
                            catch (TimeoutException)
                            {
                                stalled = true;
                                throw;
                            }
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

            if (output is not null && produced < offset)
            {
                throw new RpcException(new Status(StatusCode.OutOfRange,
                    $"offset {offset} is past the end of this delivery of {revision.Id.Name} ({produced} bytes)."));
            }

            var delivered = whole?.GetHashAndReset() ?? revision.Sha256;
            var sha256 = hash?.GetHashAndReset() ?? delivered;
            // Unfinished until the end is recorded: a failure to record it is a failed stream's, recorded as such.
            var index = await transfers.FinishAsync(caller, transfer, grant, start.Attempt, completed: true, stream.Sent,
                Convert.ToHexStringLower(delivered), output)
                ?? throw new RpcException(new Status(StatusCode.Aborted, $"'{transfer.Id.Name}' was resumed elsewhere; this stream ends without a receipt."));
            finished = true;
            var receipt = await audit.ReceiptAsync(index, signer, CancellationToken.None);
            await responseStream.WriteAsync(new V1.DownloadResponse
            {
                Trailer = new V1.DownloadTrailer { Sha256 = ByteString.CopyFrom(sha256), Receipt = receipt },
            }, context.CancellationToken);
            telemetry.TransferEnded("download", "completed", time.GetElapsedTime(started));
        }
        catch (Exception ex) when (!finished)
        {
            var (status, reason) = stream.WasSuperseded
                ? (new Status(StatusCode.Aborted, $"'{transfer.Id.Name}' was failed by another gateway, which took this one for gone; resume it."), "superseded")
                : Classify(ex, revoked.IsCancellationRequested, lineageStopped.IsCancellationRequested, context.CancellationToken.IsCancellationRequested,
                    expired: ends.HasEnded(time.GetUtcNow()), ends.Unconfirmed, stalled ? Limits.StallTimeout : null);

            // The transfer is FAILED either way (it may resume); a consumer's cancel is no failure of the gateway's, and is logged as what it is.
            var cancelled = status.StatusCode == StatusCode.Cancelled;
            telemetry.TransferEnded("download", cancelled ? "cancelled" : "failed", time.GetElapsedTime(started));
            try
            {
                await transfers.FinishAsync(caller, transfer, grant, start.Attempt, completed: false, stream.Sent, reason);
            }
            catch (Exception recording)
            {
                // The database refuses writes (full, away): the transfer would stay STARTED, and every resume be
                // refused as still streaming. The heartbeat fails it once the database takes writes again.
                stream.EndUnrecorded();
                LogEndUnrecorded(recording, transfer.Id.Name);
            }

            if (cancelled)
            {
                LogTransferCancelled(transfer.Id.Name, stream.Sent);
            }
            else
            {
                LogTransferFailed(transfer.Id.Name, stream.Sent, reason);
            }

            throw new RpcException(status);
        }
    }

    /// <summary>The first <paramref name="rows"/> rows the grant delivers of a revision a preview was allowed for.</summary>
    public async Task<V1.PreviewDeliveryResponse> PreviewAsync(StoredRevision stored, TableOutput output, Grant grant, int rows,
        CancellationToken cancellationToken)
    {
        var revision = stored.Revision;
        var plan = new Tables.ViewPlan(output.View, output.Columns, maskKeys.For(grant.Id.Name));
        var dataKey = keys.Unwrap(stored.WrappedKey, stored.KekId, revision.Id.Name);
        List<string[]> delivered;
        try
        {
            delivered = await TableDelivery.PreviewAsync(new RevisionStream(blobs, stored.BlobId, dataKey, revision.Id.Name, revision.SizeBytes,
                stored.SegmentSize), output, plan, rows, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        var response = new V1.PreviewDeliveryResponse
        {
            Revision = revision.Id.Name,
            ViewSha256 = output.View is { } view ? ByteString.CopyFrom(Tables.ViewDigest.Of(view)) : ByteString.Empty,
        };
        response.Columns.Add(plan.Columns);
        foreach (var row in delivered)
        {
            var preview = new V1.PreviewRow();
            preview.Values.Add(row);
            response.Rows.Add(preview);
        }

        return response;
    }

    /// <summary>
    /// Why the stream stopped and what the consumer is told. A grant's end comes before a stall: both may have
    /// happened by the time the stream is stopped, and the expiry is the one that also refuses a resume.
    /// </summary>
    private static (Status Status, string Reason) Classify(Exception ex, bool revoked, bool lineageStopped, bool callerGone, bool expired, bool endUnconfirmed, TimeSpan? stalledFor) => ex switch
    {
        _ when revoked => (new Status(StatusCode.PermissionDenied, "The grant was revoked during the download; the transfer stopped."), "grant revoked"),
        _ when lineageStopped => (new Status(StatusCode.PermissionDenied,
            "The dataset is derived from data whose grant or right ended during the download, and the source's terms do not let " +
            "derived data be downloaded after that; the transfer stopped."), "stopped by lineage"),
        RpcException { StatusCode: StatusCode.DataLoss } dataLoss => (dataLoss.Status, "stored bytes damaged"),
        CryptographicException => (new Status(StatusCode.DataLoss, "The revision's data key cannot be unwrapped; nothing more is sent."), "data key unavailable"),
        _ when callerGone => (new Status(StatusCode.Cancelled, "The download was cancelled."), "cancelled by the consumer"),
        _ when expired => Expired,
        _ when endUnconfirmed => (new Status(StatusCode.Unavailable,
            "The gateway could not confirm that the grant runs on past its subscription period's end, so the download stopped there; resume the transfer."),
            "grant end unconfirmed"),
        _ when stalledFor is { } stall => (new Status(StatusCode.DeadlineExceeded,
            $"Nothing more of the download was read for {stall.TotalSeconds:0} s, so the gateway stopped it; resume the transfer."),
            "the consumer stopped reading"),
        OperationCanceledException => Expired,
        RpcException rpc => (rpc.Status, rpc.Status.Detail),
        _ when StorageFull.Is(ex) => (new Status(StatusCode.ResourceExhausted,
            "The gateway's storage is full, so the transfer could not be recorded; resume it once its operator has freed space."), "storage full"),
        IOException => (new Status(StatusCode.Unavailable, "Reading the stored revision failed; resume the transfer later."), "storage read failed"),
        _ => (new Status(StatusCode.Internal, "The download failed on the server; resume the transfer later."), "internal error"),
    };

    private static (Status Status, string Reason) Expired =>
        (new Status(StatusCode.PermissionDenied, "The grant expired during the download; the transfer stopped."), "grant expired");

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "{Transfer} stopped after {Bytes} bytes: {Reason}")]
    private partial void LogTransferFailed(string transfer, long bytes, string reason);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "{Transfer} cancelled by the consumer after {Bytes} bytes; it may resume")]
    private partial void LogTransferCancelled(string transfer, long bytes);

    [LoggerMessage(EventId = 44, Level = LogLevel.Warning, Message = "{Transfer} ended, but its end could not be recorded; it is failed once the database takes writes")]
    private partial void LogEndUnrecorded(Exception exception, string transfer);
}
