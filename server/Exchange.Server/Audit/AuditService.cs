using System.Text.RegularExpressions;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Audit;

/// <summary>
/// exchange.v1.AuditService: the log's events under <see cref="AuditStore.ListAsync"/>'s read
/// rules, and checkpoints and proofs, which are about the one global tree and reveal no content.
/// </summary>
internal sealed partial class AuditService(AuditStore store, CheckpointSigner signer, PageTokens pageTokens,
    Microsoft.Extensions.Options.IOptions<Hosting.ExchangeOptions> options, TimeProvider time)
    : V1.AuditService.AuditServiceBase
{
    private const int WatchBatch = 500;

    public override async Task<ListAuditEventsResponse> ListAuditEvents(ListAuditEventsRequest request, ServerCallContext context)
    {
        var caller = Caller.From(context);
        var pageSize = PageSize.Resolve(request.PageSize, defaultSize: 100, maxSize: 1000);
        var query = ParseQuery(request.Dataset, request.Participant, request.Action, request.StartTime, request.EndTime);
        if (request.StartIndex < 0)
        {
            throw Errors.InvalidArgument("start_index must not be negative.");
        }

        var scope = $"{query.Scope(caller.Participant)}\n{request.StartIndex}";
        var from = request.PageToken.Length == 0 ? request.StartIndex : pageTokens.Decode(request.PageToken, scope);
        // Read connections see only committed rows, so no upper bound is needed here.
        var (page, next) = await store.ListAsync(query, caller, from, long.MaxValue, pageSize, context.CancellationToken);
        var response = new ListAuditEventsResponse { NextPageToken = next is { } n ? pageTokens.Encode(scope, n) : "" };
        response.Events.Add(page);
        return response;
    }

    public override async Task WatchAuditEvents(WatchAuditEventsRequest request, IServerStreamWriter<WatchAuditEventsResponse> responseStream,
        ServerCallContext context)
    {
        var caller = Caller.From(context);
        var query = ParseQuery(request.Dataset, request.Participant, request.Action, null, null);
        if (request.StartIndex < 0)
        {
            throw Errors.InvalidArgument("start_index must not be negative.");
        }

        // No stream is endless: after MaxWatchDuration the watch ends cleanly, and the watcher opens a new one from its next index.
        using var lifetime = new CancellationTokenSource(options.Value.Limits.MaxWatchDuration, time);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.Token);
        var cancellation = watching.Token;
        var from = request.StartIndex;
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                var until = store.Size;
                var (page, next) = await store.ListAsync(query, caller, from, until, WatchBatch, cancellation);
                foreach (var auditEvent in page)
                {
                    await responseStream.WriteAsync(new WatchAuditEventsResponse { Event = auditEvent }, cancellation);
                }

                if (next is { } more)
                {
                    from = more;
                    continue;
                }

                from = Math.Max(from, until);
                await store.WaitForGrowthAsync(from, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The lifetime ran out, perhaps mid-send: a clean end, not an error.
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher left.
        }
    }

    public override async Task<GetCheckpointResponse> GetCheckpoint(GetCheckpointRequest request, ServerCallContext context)
    {
        var checkpoint = await store.LatestCheckpointAsync(signer, context.CancellationToken);
        if (checkpoint is null)
        {
            await store.SignCheckpointAsync(signer, context.CancellationToken);
            checkpoint = await store.LatestCheckpointAsync(signer, context.CancellationToken);
        }

        return new GetCheckpointResponse { Checkpoint = checkpoint };
    }

    public override async Task<GetInclusionProofResponse> GetInclusionProof(GetInclusionProofRequest request, ServerCallContext context)
    {
        var treeSize = await ResolveTreeSizeAsync(request.TreeSize, "tree_size", context.CancellationToken);
        if (request.Index < 0 || request.Index >= treeSize)
        {
            throw Errors.InvalidArgument($"index must be from 0 to tree_size - 1 ({treeSize - 1}); got {request.Index}.");
        }

        var hashes = await store.RangeHashesAsync(MerkleProofRanges.Inclusion(request.Index, treeSize), context.CancellationToken);
        var response = new GetInclusionProofResponse { Index = request.Index, TreeSize = treeSize };
        response.Hashes.Add(hashes.Select(ByteString.CopyFrom));
        return response;
    }

    public override async Task<GetConsistencyProofResponse> GetConsistencyProof(GetConsistencyProofRequest request, ServerCallContext context)
    {
        var second = await ResolveTreeSizeAsync(request.SecondTreeSize, "second_tree_size", context.CancellationToken);
        if (request.FirstTreeSize < 1 || request.FirstTreeSize > second)
        {
            throw Errors.InvalidArgument($"first_tree_size must be from 1 to second_tree_size ({second}); got {request.FirstTreeSize}.");
        }

        var hashes = await store.RangeHashesAsync(MerkleProofRanges.Consistency(request.FirstTreeSize, second), context.CancellationToken);
        var response = new GetConsistencyProofResponse { FirstTreeSize = request.FirstTreeSize, SecondTreeSize = second };
        response.Hashes.Add(hashes.Select(ByteString.CopyFrom));
        return response;
    }

    /// <summary>0 means the newest checkpoint's size; anything else must lie within the committed log.</summary>
    private async Task<long> ResolveTreeSizeAsync(long requested, string field, CancellationToken cancellationToken)
    {
        if (requested < 0)
        {
            throw Errors.InvalidArgument($"{field} must not be negative.");
        }

        if (requested == 0)
        {
            var checkpoint = await store.LatestCheckpointAsync(signer, cancellationToken);
            if (checkpoint is null || checkpoint.Size == 0)
            {
                throw Errors.FailedPrecondition("No checkpoint covers any event yet; try again in a moment.");
            }

            return checkpoint.Size;
        }

        var size = store.Size;
        if (requested > size)
        {
            // A checkpoint commits a moment before the writer publishes its new size; trust the committed checkpoint.
            var checkpoint = await store.LatestCheckpointAsync(signer, cancellationToken);
            size = Math.Max(size, checkpoint?.Size ?? 0);
        }

        if (requested > size)
        {
            throw Errors.InvalidArgument($"{field} {requested} is larger than the log ({size} events).");
        }

        return requested;
    }

    private static AuditQuery ParseQuery(string dataset, string participant, string action,
        Google.Protobuf.WellKnownTypes.Timestamp? start, Google.Protobuf.WellKnownTypes.Timestamp? end)
    {
        if (dataset.Length > 0)
        {
            DatasetId.Parse(dataset, "dataset");
        }

        if (participant.Length > 0 && !ParticipantId.IsValid(participant))
        {
            throw Errors.InvalidArgument($"participant '{participant}' is not a participant id ({ParticipantId.Rule}).");
        }

        if (action.Length > 0 && !ActionPattern().IsMatch(action))
        {
            throw Errors.InvalidArgument($"action '{action}' is not an action name such as 'dataset.create'.");
        }

        var startMicros = ToMicros(start, "start_time");
        var endMicros = ToMicros(end, "end_time");
        if (startMicros is { } s && endMicros is { } e && e <= s)
        {
            throw Errors.InvalidArgument("end_time must be after start_time.");
        }

        return new AuditQuery(
            dataset.Length == 0 ? null : dataset,
            participant.Length == 0 ? null : participant,
            action.Length == 0 ? null : action,
            startMicros,
            endMicros);
    }

    private static long? ToMicros(Google.Protobuf.WellKnownTypes.Timestamp? time, string field)
    {
        if (time is null)
        {
            return null;
        }

        try
        {
            return Timestamps.ToMicros(time.ToDateTimeOffset());
        }
        catch (InvalidOperationException)
        {
            throw Errors.InvalidArgument($"{field} is not a valid timestamp.");
        }
    }

    [GeneratedRegex("^[a-z][a-z_]*(\\.[a-z][a-z_]*)+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActionPattern();
}
