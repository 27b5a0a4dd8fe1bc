using System.Globalization;
using System.Security.Cryptography;
using System.Threading.Channels;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Server.Tables;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Transfers;

/// <summary>
/// What an upload's header declares, validated: the media type, the size and SHA-256 when given (0
/// and null: not declared), and for a table the columns declared and whether rows breaking them refuse it.
/// </summary>
internal sealed record DeclaredUpload(string MediaType, long SizeBytes, byte[]? Sha256, V1.Schema? Schema = null, bool Strict = false);

/// <summary>
/// An upload: the caller's right to it checked and its revision number reserved; then its chunks
/// received while a second stage hashes, encrypts and stores them; then, once complete and as
/// declared, the revision committed and recorded. Nothing of an upload that fails is kept.
/// </summary>
internal sealed class UploadPipeline(Database database, IRevisions revisions, ICatalog datasets, IBlobStore blobs, KeyRing keys,
    IOptions<Hosting.ExchangeOptions> options, TimeProvider time, Observability.ExchangeTelemetry telemetry)
{
    private const int UploadQueueDepth = 4;

    private TransferOptions Limits => options.Value.Transfers;

    /// <summary>The messages of an upload call, each awaited for at most the idle timeout.</summary>
    public Messages Receive(IAsyncStreamReader<V1.UploadRequest> stream, ServerCallContext context) => new(stream, context, Limits.IdleTimeout, time);

    /// <summary>
    /// Checks that <paramref name="caller"/> may upload to the dataset and reserves the next revision
    /// number for it (numbers of abandoned uploads are not reused); a refusal is recorded and returned.
    /// </summary>
    public Task<Decision<RevisionId>> ReserveAsync(Caller caller, DatasetId id, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<RevisionId>>(unit =>
        {
            var dataset = datasets.FindVisible(unit, id, caller) ?? throw Refusal.NotVisible(id.Name);
            if (!DatasetPolicy.CanEdit(caller, dataset))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.RevisionUpload, id.Name, Outcome.Denied,
                    Dataset: id.Name, DatasetProvider: dataset.Provider), $"Only the provider of '{id.Name}' may upload revisions of it.");
            }

            return new RevisionId(id, revisions.Reserve(unit, id));
        }, cancellationToken);

    /// <summary>
    /// Receives the rest of <paramref name="messages"/> (chunks) as revision <paramref name="id"/>,
    /// stores it encrypted and, when it is as <paramref name="declared"/>, makes it visible.
    /// </summary>
    public async Task<Revision> StoreAsync(Caller caller, RevisionId id, DeclaredUpload declared, Messages messages,
        CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var dataKey = KeyRing.NewDataKey();
        var segmentSize = Limits.ChunkSize;
        await using var sink = await blobs.CreateAsync(cancellationToken);
        var placed = false;
        var committed = false;
        var format = TableFormats.Of(declared.MediaType);
        await using var table = format == V1.TableFormat.Csv
            ? new CsvProfiler(declared.Schema ?? new V1.Schema(), declared.Strict, Limits.MaxTableColumns, Limits.MaxTableRowBytes)
            : null;
        try
        {
            byte[] sha256;
            long length;
            TableProfile? profile = null;
            using (var writer = new RevisionWriter(sink, dataKey, id.Name, segmentSize))
            {
                await ReceiveAsync(writer, table, declared, messages, cancellationToken);
                length = writer.Length;
                sha256 = await writer.FinishAsync(cancellationToken);
                if (table is not null)
                {
                    profile = await table.FinishAsync();
                }
            }

            if (declared.SizeBytes > 0 && length != declared.SizeBytes)
            {
                throw Refusal.Invalid($"The upload ended after {length} bytes, not the declared {declared.SizeBytes}; nothing was stored.");
            }

            if (declared.Sha256 is { } expected && !expected.AsSpan().SequenceEqual(sha256))
            {
                throw Refusal.Invalid(
                    $"The bytes hash to {Convert.ToHexStringLower(sha256)}, not the declared sha256 {Convert.ToHexStringLower(expected)}; nothing was stored.");
            }

            await sink.CommitAsync(cancellationToken);
            placed = true;
            if (format is V1.TableFormat.Parquet or V1.TableFormat.ArrowIpc)
            {
                profile = await ProfilePlacedAsync(format, declared, sink.BlobId, dataKey, id.Name, length, segmentSize, cancellationToken);
            }

            var revision = await CommitAsync(caller, new StoredRevision(new Revision(id, length, sha256, declared.MediaType, default), sink.BlobId,
                keys.Wrap(dataKey, id.Name), keys.PrimaryId, segmentSize), profile);
            committed = true;
            telemetry.Transferred("upload", length);
            return revision;
        }
        finally
        {
            telemetry.TransferEnded("upload", committed ? "completed" : "failed", time.GetElapsedTime(started));
            CryptographicOperations.ZeroMemory(dataKey);
            if (placed && !committed)
            {
                // In place but without its revision row: it must go. (An unplaced blob goes with its sink.)
                await blobs.DeleteAsync(sink.BlobId, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Reads a typed table back from its placed blob, decrypting in memory. Parquet keeps its
    /// metadata at its end, so it cannot be read as it streams in; Arrow is read the same way, for
    /// one path. The readers are synchronous, so this runs on a thread of its own.
    /// </summary>
    private Task<TableProfile> ProfilePlacedAsync(V1.TableFormat format, DeclaredUpload declared, string blobId, byte[] dataKey,
        string revision, long length, int segmentSize, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var stored = new RevisionStream(blobs, blobId, dataKey, revision, length, segmentSize);
            return TableProfiler.Profile(format, stored, declared.Schema ?? new V1.Schema(), declared.Strict, Limits.MaxTableColumns,
                Limits.MaxTableRowBytes, Limits.MaxRevisionBytes, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Two stages: this one receives while a second one hashes, encrypts and writes, so the
    /// transport never waits for the disk; the bounded queue caps the memory an upload holds.
    /// </summary>
    private async Task ReceiveAsync(RevisionWriter writer, CsvProfiler? table, DeclaredUpload declared, Messages messages,
        CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(UploadQueueDepth)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var storing = Task.Run(async () =>
        {
            try
            {
                await foreach (var chunk in queue.Reader.ReadAllAsync(abandon.Token))
                {
                    if (table is not null)
                    {
                        // Read before the writer may hand the chunk's buffer back.
                        await table.WriteAsync(chunk, abandon.Token);
                    }

                    await writer.AppendAsync(chunk, PooledChunk.Owning(chunk), abandon.Token);
                }
            }
            catch
            {
                // Stop the receiving stage too, or it would wait on a queue nobody empties.
                await abandon.CancelAsync();
                throw;
            }
        }, CancellationToken.None);

        long received = 0;
        ReadOnlyMemory<byte> inHand = default;
        try
        {
            while (await messages.NextAsync())
            {
                var message = messages.Current;
                inHand = message.Chunk.Memory;
                if (message.PayloadCase != V1.UploadRequest.PayloadOneofCase.Chunk)
                {
                    throw Refusal.Invalid("Only the first message of an upload is a header; every later one carries a chunk.");
                }

                received += message.Chunk.Length;
                if (received > Limits.MaxRevisionBytes)
                {
                    throw new RpcException(new Status(StatusCode.ResourceExhausted,
                        $"The upload is larger than the largest revision accepted ({Limits.MaxRevisionBytes} bytes)."));
                }

                if (declared.SizeBytes > 0 && received > declared.SizeBytes)
                {
                    throw Refusal.Invalid($"More bytes arrived than the declared size_bytes ({declared.SizeBytes}); nothing was stored.");
                }

                // Handed on without a copy; the writer gives a pooled chunk's buffer back once it has sealed it.
                await queue.Writer.WriteAsync(inHand, abandon.Token);
                inHand = default;
            }

            queue.Writer.Complete();
            await storing;
        }
        catch
        {
            queue.Writer.TryComplete();
            await abandon.CancelAsync();
            await Task.WhenAny(storing);
            PooledChunk.Release(inHand);
            while (queue.Reader.TryRead(out var unstored))
            {
                PooledChunk.Release(unstored);
            }

            if (storing.IsFaulted)
            {
                // A storing failure cancels this stage too, so what was caught here may be only that
                // cancellation; the storing failure is then the cause to report.
                await storing;
            }

            throw;
        }
    }

    /// <summary>
    /// Makes an uploaded revision visible, and records it, in one unit of work. A table's quality
    /// report is completed at the commit's time (its currentness), and the SHA-256 of its schema and
    /// report go into the audit event: what the catalog shows of them is then attested.
    /// </summary>
    private Task<Revision> CommitAsync(Caller caller, StoredRevision uploaded, TableProfile? profile) =>
        database.WriteAsync(unit =>
        {
            var id = uploaded.Revision.Id;
            var dataset = datasets.FindVisible(unit, id.Dataset, caller) ?? throw Refusal.NotVisible(id.Dataset.Name);
            var table = profile is null
                ? null
                : new RevisionTable(profile.Format, profile.Schema.ToByteArray(), profile.ReportAt(unit.Now).ToByteArray());
            var revision = revisions.Add(unit, uploaded with { Revision = uploaded.Revision with { CreateTime = unit.Now, Table = table } });
            var details = new Dictionary<string, string>
            {
                ["size_bytes"] = revision.SizeBytes.ToString(CultureInfo.InvariantCulture),
                ["sha256"] = Convert.ToHexStringLower(revision.Sha256),
                ["media_type"] = revision.MediaType,
            };
            if (table is not null)
            {
                details["table_format"] = table.Format.ToString().ToLowerInvariant();
                details["schema_sha256"] = Convert.ToHexStringLower(SHA256.HashData(table.Schema));
                details["quality_sha256"] = Convert.ToHexStringLower(SHA256.HashData(table.Quality));
                details["row_count"] = table.Report.RowCount.ToString(CultureInfo.InvariantCulture);
            }

            unit.Record(new AuditEntry(caller.Participant, AuditActions.RevisionUpload, id.Name, Outcome.Success,
                Dataset: dataset.Id.Name, DatasetProvider: dataset.Provider, Details: details));
            return revision;
        }, CancellationToken.None);

    /// <summary>An upload call's messages; waiting longer than the idle timeout for one abandons the upload.</summary>
    internal sealed class Messages : IDisposable
    {
        private readonly IAsyncStreamReader<V1.UploadRequest> _stream;
        private readonly ServerCallContext _context;
        private readonly TimeSpan _idleTimeout;

        // The idle timer runs on the gateway's clock (re-armed before each message); the call's own cancellation ends a wait as well.
        private readonly CancellationTokenSource _idle;
        private readonly CancellationTokenSource _idleOrGone;

        public Messages(IAsyncStreamReader<V1.UploadRequest> stream, ServerCallContext context, TimeSpan idleTimeout, TimeProvider time)
        {
            (_stream, _context, _idleTimeout) = (stream, context, idleTimeout);
            _idle = new CancellationTokenSource(idleTimeout, time);
            _idleOrGone = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _idle.Token);
        }

        public V1.UploadRequest Current => _stream.Current;

        public async Task<bool> NextAsync()
        {
            _idle.CancelAfter(_idleTimeout);
            try
            {
                var more = await _stream.MoveNext(_idleOrGone.Token);
                // Only the client's silence counts, not time spent here storing what it sent.
                _idle.CancelAfter(Timeout.Infinite);
                return more;
            }
            catch (OperationCanceledException) when (!_context.CancellationToken.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                    $"No upload message arrived for {_idleTimeout.TotalSeconds:0} s; the upload was abandoned and nothing was stored."));
            }
        }

        public void Dispose()
        {
            _idleOrGone.Dispose();
            _idle.Dispose();
        }
    }
}
