using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Client.Transfers;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Client;

public sealed partial class ExchangeClient
{
    private const int DefaultChunkSize = 256 * 1024;
    private const int MaxAttempts = 6;

    /// <summary>
    /// Uploads <paramref name="content"/> as a new revision of <paramref name="dataset"/>, streaming it
    /// in chunks, and checks that the server stored exactly the bytes sent (by SHA-256).
    /// </summary>
    /// <param name="dataset">The dataset, <c>datasets/{id}</c>.</param>
    /// <param name="content">The bytes, read to the end.</param>
    /// <param name="options">The media type and a progress receiver; null for <c>application/octet-stream</c> and no progress.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public async Task<Revision> UploadAsync(string dataset, Stream content, UploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= new UploadOptions();
        var (mediaType, progress) = (options.MediaType, options.Progress);
        long? total = content.CanSeek ? content.Length - content.Position : null;
        using var call = Transfers.Upload(cancellationToken: cancellationToken);
        await WriteAsync(call, new UploadRequest
        {
            Header = new UploadHeader { Dataset = dataset, MediaType = mediaType, SizeBytes = total ?? 0, Schema = options.Schema, Strict = options.Strict },
        }, cancellationToken).ConfigureAwait(false);

        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[DefaultChunkSize];
        long sent = 0;
        int read;
        while ((read = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
            // The message is serialized before WriteAsync completes, so the buffer can be reused after it.
            await WriteAsync(call, new UploadRequest { Chunk = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read)) }, cancellationToken)
                .ConfigureAwait(false);
            sent += read;
            progress?.Report(new TransferProgress(sent, total));
        }

        try
        {
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            await ThrowRefusalAsync(call).ConfigureAwait(false);
            throw;
        }

        var revision = (await call.ResponseAsync.ConfigureAwait(false)).Revision;
        var local = sha256.GetHashAndReset();
        return revision.Sha256.Span.SequenceEqual(local) && revision.SizeBytes == sent
            ? revision
            : throw new InvalidDataException($"The server stored {revision.Name} with a different SHA-256 or size than was sent.");
    }

    private static async Task WriteAsync(AsyncClientStreamingCall<UploadRequest, UploadResponse> call, UploadRequest request,
        CancellationToken cancellationToken)
    {
        try
        {
            await call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            await ThrowRefusalAsync(call).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A gateway that refuses an upload ends the call without reading the rest; a write in flight
    /// at that moment fails as Cancelled, while the gateway's own status, the reason a person can
    /// act on, arrives with the response.
    /// </summary>
    private static async Task ThrowRefusalAsync(AsyncClientStreamingCall<UploadRequest, UploadResponse> call)
    {
        try
        {
            await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException refused) when (refused.StatusCode != StatusCode.Cancelled)
        {
            throw;
        }
        catch (RpcException)
        {
            // No status beyond the cancellation: the write's own exception says as much.
        }
    }

    /// <summary>Uploads the file at <paramref name="path"/> as a new revision of <paramref name="dataset"/> (see <see cref="UploadAsync"/>).</summary>
    public async Task<Revision> UploadFileAsync(string dataset, string path, UploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await UploadAsync(dataset, file, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Verifies a transfer receipt against what this client trusts: the event must be the
    /// successful completion of exactly <paramref name="expected"/>; its checkpoint must be signed by
    /// the trusted key (<see cref="ExchangeClientOptions.AuditLogKey"/>, else the key stored with the
    /// trusted checkpoint, else the gateway's on first use, never the key the receipt names), with
    /// the key's name as its origin, and consistent with the last trusted checkpoint, which a newer
    /// verified checkpoint then replaces.
    /// </summary>
    public Task<ReceiptVerification> VerifyReceiptAsync(TransferReceipt receipt, ExpectedTransfer expected,
        CancellationToken cancellationToken = default) =>
        _logTrust.VerifyAsync(receipt, expected, cancellationToken);

    /// <summary>
    /// Downloads a revision under <paramref name="grant"/> to <paramref name="path"/>. Bytes go to
    /// <c>path.partial</c> first; a dropped connection resumes the same transfer from where it stopped
    /// (also when this method is called again after the process died); the file gets its final name
    /// only once its SHA-256 matches and the receipt verifies (<see cref="VerifyReceiptAsync"/>), and a
    /// mismatch deletes it: a <see cref="VerificationException"/> says which check failed.
    /// </summary>
    /// <param name="grant">The grant, <c>grants/{id}</c>.</param>
    /// <param name="path">Where to write the file.</param>
    /// <param name="options">The purpose (required), the revision (null for the latest) and a progress receiver.</param>
    /// <param name="cancellationToken">Cancels the download; the partial file stays for a later resume.</param>
    /// <remarks>
    /// A download the gateway refuses before it starts leaves no partial file; one stopped because its
    /// grant was revoked or expired can never resume, so its partial file is removed and the
    /// RpcException's detail says so.
    /// </remarks>
    public async Task<DownloadResult> DownloadToFileAsync(string grant, string path, DownloadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (purpose, revision, progress, format) = (options.Purpose, options.Revision, options.Progress, options.Format);
        var partial = path + ".partial";
        var statePath = path + ".partial.json";
        var state = await LoadStateAsync(statePath, cancellationToken).ConfigureAwait(false);
        if (state is not null && (state.Grant != grant || (revision is not null && state.Revision.Length > 0 && state.Revision != revision)))
        {
            throw new InvalidOperationException(
                $"'{partial}' belongs to a download of {state.Revision} under {state.Grant}; remove it or download to another path.");
        }

        var resumed = state is { Transfer.Length: > 0 };
        if (state is null)
        {
            // Saved before the first call, so a retry after any failure continues the same transfer.
            state = new PartialDownload(grant, "", revision ?? "", 0, "", Guid.NewGuid().ToString("N"), format);
            await File.WriteAllTextAsync(statePath, JsonSerializer.Serialize(state), cancellationToken).ConfigureAwait(false);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (done, receipt, sha256) = await DownloadOnceAsync(grant, partial, statePath, purpose, revision, state, progress, cancellationToken)
                    .ConfigureAwait(false);
                state = done;
                if (!sha256.AsSpan().SequenceEqual(Convert.FromHexString(done.Sha256)))
                {
                    File.Delete(partial);
                    File.Delete(statePath);
                    throw new InvalidDataException($"The downloaded bytes do not hash to the SHA-256 of {done.Revision}; the file was deleted.");
                }

                var verified = await VerifyReceiptAsync(receipt, new ExpectedTransfer(done.Transfer, grant, done.Revision, done.SizeBytes, sha256),
                    cancellationToken).ConfigureAwait(false);
                if (!verified.Succeeded)
                {
                    File.Delete(partial);
                    File.Delete(statePath);
                    throw new VerificationException(verified,
                        $"The download's receipt does not verify ({verified.FailedCheck}: {verified.Message}); the file was deleted.");
                }

                File.Move(partial, path, overwrite: true);
                File.Delete(statePath);
                return new DownloadResult(path, done.Transfer, done.Revision, done.SizeBytes, sha256, receipt, resumed, verified);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && state is { Transfer.Length: > 0 })
            {
                // The transfer may have completed with this process stopping before the file got its name.
                var earlier = await CompletedEarlierAsync(state, partial, cancellationToken).ConfigureAwait(false);
                if (earlier is not var (receipt, size, sha256))
                {
                    throw await RefusedAsync(ex, grant, state, partial, statePath, cancellationToken).ConfigureAwait(false);
                }

                // CompletedEarlierAsync hashed the file: it holds exactly the bytes of sha256.
                var verified = await VerifyReceiptAsync(receipt, new ExpectedTransfer(state.Transfer, grant, state.Revision, size, sha256),
                    cancellationToken).ConfigureAwait(false);
                if (!verified.Succeeded)
                {
                    throw new VerificationException(verified,
                        $"The transfer's receipt does not verify ({verified.FailedCheck}: {verified.Message}).");
                }

                File.Move(partial, path, overwrite: true);
                File.Delete(statePath);
                return new DownloadResult(path, state.Transfer, state.Revision, size, sha256, receipt, true, verified);
            }
            catch (RpcException ex) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested &&
                ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted &&
                !CertificateRefused(ex))
            {
                // The connection dropped: the transfer resumes from what reached the disk.
                state = await LoadStateAsync(statePath, cancellationToken).ConfigureAwait(false) ?? state;
                resumed |= state is { Transfer.Length: > 0 };
                await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << (attempt - 1))), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested && (!Transient(ex.StatusCode) || CertificateRefused(ex)))
            {
                state = await LoadStateAsync(statePath, CancellationToken.None).ConfigureAwait(false) ?? state;
                throw await RefusedAsync(ex, grant, state, partial, statePath, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A certificate this client does not accept: waiting does not change it, so no retry.</summary>
    private static bool CertificateRefused(RpcException ex) =>
        Connection.GatewayConnectionException.Find(ex) is { Failure: Connection.ConnectionFailure.UntrustedCertificate or Connection.ConnectionFailure.NameMismatch };

    private static bool Transient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted or StatusCode.Cancelled
            or StatusCode.DeadlineExceeded;

    /// <summary>
    /// After the gateway refused a download for good: leaves nothing behind that can never resume.
    /// Refused before the transfer started (no header ever came), the partial files hold nothing and
    /// go; a started transfer's bytes go only when its grant is revoked or expired, and the error
    /// then says so. Returns the exception to throw.
    /// </summary>
    private async Task<Exception> RefusedAsync(RpcException refusal, string grant, PartialDownload state, string partial, string statePath,
        CancellationToken cancellationToken)
    {
        if (state.Transfer.Length == 0)
        {
            DeletePartial(partial, statePath);
            return refusal;
        }

        GrantState grantState;
        try
        {
            grantState = (await Access.GetGrantAsync(new GetGrantRequest { Name = grant }, cancellationToken: cancellationToken).ConfigureAwait(false))
                .Grant.State;
        }
        catch (RpcException)
        {
            return refusal;
        }

        if (grantState is not (GrantState.Revoked or GrantState.Expired))
        {
            return refusal;
        }

        DeletePartial(partial, statePath);
        var why = grantState == GrantState.Revoked ? "grant revoked" : "grant expired";
        return new RpcException(new Status(refusal.StatusCode,
            $"{refusal.Status.Detail} ({why}: the partial file was removed; it can never resume)", refusal), refusal.Trailers);
    }

    private static void DeletePartial(string partial, string statePath)
    {
        File.Delete(partial);
        File.Delete(statePath);
    }

    /// <summary>One call: resumes from what <paramref name="partial"/> holds; returns the final state, the receipt and the whole file's SHA-256.</summary>
    private async Task<(PartialDownload State, TransferReceipt Receipt, byte[] Sha256)> DownloadOnceAsync(string grant, string partial,
        string statePath, string purpose, string? revision, PartialDownload state, IProgress<TransferProgress>? progress,
        CancellationToken cancellationToken)
    {
        var known = state.Transfer.Length > 0;
        await using var file = new FileStream(partial, known ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1,
            FileOptions.Asynchronous);
        var offset = known ? file.Length : 0;
        if (offset > 0)
        {
            // The gateway resumes only from bytes it knows it sent; after its own crash that can be less than
            // reached this disk, and the rest comes again.
            var recorded = (await Transfers.GetTransferAsync(new GetTransferRequest { Name = state.Transfer }, cancellationToken: cancellationToken)
                .ConfigureAwait(false)).Transfer;
            if (recorded.State == TransferState.Started)
            {
                // The last stream is still ending on the gateway and its count is not final yet: try again in a moment.
                throw new RpcException(new Status(StatusCode.Aborted, $"'{state.Transfer}' is still streaming; retrying once that stream has ended."));
            }

            if (recorded.State == TransferState.Failed && recorded.BytesSent < offset)
            {
                file.SetLength(recorded.BytesSent);
                offset = recorded.BytesSent;
            }
        }

        // The whole file is hashed as it is written (its earlier part first, when resuming), so it is
        // never read back; the bytes of this call alone are hashed too only when they are not the whole.
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sent = offset == 0 ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (offset > 0)
        {
            var buffer = new byte[DefaultChunkSize];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                whole.AppendData(buffer, 0, read);
            }
        }

        file.Position = offset;
        var request = new DownloadRequest
        {
            Grant = grant,
            Purpose = purpose,
            Revision = state.Revision.Length > 0 ? state.Revision : revision ?? "",
            Offset = offset,
            Transfer = state.Transfer,
            RequestId = state.RequestId ?? "",
            Format = state.Format,
        };

        using var call = Transfers.Download(request, cancellationToken: cancellationToken);
        var position = offset;
        await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (message.PayloadCase)
            {
                case DownloadResponse.PayloadOneofCase.Header:
                    var header = message.Header;
                    state = new PartialDownload(grant, header.Transfer, header.Revision, header.SizeBytes, Convert.ToHexStringLower(header.Sha256.Span),
                        state.RequestId, header.Format);
                    await File.WriteAllTextAsync(statePath, JsonSerializer.Serialize(state), cancellationToken).ConfigureAwait(false);
                    progress?.Report(new TransferProgress(position, state.Encoded ? null : header.SizeBytes));
                    break;
                case DownloadResponse.PayloadOneofCase.Chunk:
                    if (state.Transfer.Length == 0 || message.Chunk.Offset != position)
                    {
                        throw new InvalidDataException($"The server sent bytes at {message.Chunk.Offset} where {position} was expected.");
                    }

                    whole.AppendData(message.Chunk.Data.Span);
                    sent?.AppendData(message.Chunk.Data.Span);
                    await file.WriteAsync(message.Chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                    position += message.Chunk.Data.Length;
                    progress?.Report(new TransferProgress(position, state.Encoded ? null : state.SizeBytes));
                    break;
                case DownloadResponse.PayloadOneofCase.Trailer:
                    var sha256 = whole.GetHashAndReset();
                    if (state.Transfer.Length == 0 || (!state.Encoded && position != state.SizeBytes) ||
                        !(sent?.GetHashAndReset() ?? sha256).AsSpan().SequenceEqual(message.Trailer.Sha256.Span))
                    {
                        throw new InvalidDataException("The download's trailer does not match the bytes received.");
                    }

                    if (state.Encoded)
                    {
                        // An encoded table's size and digest are known now; its receipt must repeat them.
                        state = state with { SizeBytes = position, Sha256 = Convert.ToHexStringLower(sha256) };
                    }

                    await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return (state, message.Trailer.Receipt, sha256);
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable, "The download ended without its trailer."));
    }

    /// <summary>The receipt, size and SHA-256 of a transfer the server reports COMPLETED whose bytes are all in <paramref name="partial"/>, else null.</summary>
    private async Task<(TransferReceipt Receipt, long Size, byte[] Sha256)?> CompletedEarlierAsync(PartialDownload state, string partial, CancellationToken cancellationToken)
    {
        var transfer = (await Transfers.GetTransferAsync(new GetTransferRequest { Name = state.Transfer }, cancellationToken: cancellationToken)
            .ConfigureAwait(false)).Transfer;
        // An encoded table's size and digest were not in its header: the completed transfer and its receipt's event hold them.
        var (size, sha256) = state.Encoded
            ? (transfer.SizeBytes, transfer.Receipt?.Event.Details.FirstOrDefault(d => d.Key == "sha256")?.Value ?? "")
            : (state.SizeBytes, state.Sha256);
        if (transfer.State != TransferState.Completed || transfer.Receipt is null || new FileInfo(partial).Length != size || sha256.Length != 64)
        {
            return null;
        }

        var expected = Convert.FromHexString(sha256);
        return (await HashFileAsync(partial, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(expected)
            ? (transfer.Receipt, size, expected)
            : null;
    }

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<PartialDownload?> LoadStateAsync(string statePath, CancellationToken cancellationToken) =>
        File.Exists(statePath)
            ? JsonSerializer.Deserialize<PartialDownload>(await File.ReadAllTextAsync(statePath, cancellationToken).ConfigureAwait(false))
            : null;

    /// <summary>What a download has got to, kept next to its partial file. An encoded table has no size or digest until it completes.</summary>
    private sealed record PartialDownload(string Grant, string Transfer, string Revision, long SizeBytes, string Sha256, string? RequestId,
        TableFormat Format = TableFormat.Unspecified)
    {
        public bool Encoded => Transfer.Length > 0 && Sha256.Length == 0;
    }
}
