using System.Data.Common;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Server.Audit;

/// <summary>The audit log in the embedded database: reads, proofs and checkpoints.</summary>
internal sealed class AuditStore(Database database)
{
    /// <summary>Leaves durably in the log.</summary>
    public long Size => database.LogSize;

    /// <summary>Completes once the committed log holds more than <paramref name="size"/> leaves.</summary>
    public Task WaitForGrowthAsync(long size, CancellationToken cancellationToken) => database.Growth.WaitAsync(size, cancellationToken);

    /// <summary>
    /// Events with index in [<paramref name="from"/>, <paramref name="until"/>) that
    /// <paramref name="caller"/> may read and that match the query, oldest first; the index to
    /// continue from, or null when the range holds no more.
    /// </summary>
    public Task<(IReadOnlyList<AuditEvent> Page, long? Next)> ListAsync(AuditQuery query, Caller caller, long from, long until,
        int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<AuditEvent>, long?)>(async (connection, ct) =>
        {
            if (query.StartMicros is not null || query.EndMicros is not null)
            {
                // Time is not ordered with the index everywhere (replicas' clocks differ), so its own index
                // finds where matching events begin; a range that holds none answers at once.
                // '+idx' keeps the engine from walking the log in index order in search of the first match.
                await using var first = connection.Command(
                    "SELECT MIN(+idx) FROM audit_events WHERE " + TimeFilter(query) + " AND +idx >= @from AND +idx < @size")
                    .With("@from", from).With("@size", until);
                BindFilters(first, query with { Dataset = null, Participant = null, Action = null }, caller, scoped: false);
                if (await first.ExecuteScalarAsync(ct) is not long begin)
                {
                    return ([], null);
                }

                from = begin;
            }

            var byScope = false;
            if (!caller.ReadsEverything && HasIndexedFilter(query))
            {
                // A filter that matches much of the log but little of the caller's own part would make the filter's
                // index walk other participants' events: then the caller's own events lead instead, so the cost of
                // a page is bounded by the caller's own share of the log, never by everyone else's.
                await using var probe = connection.Command(
                    $"SELECT COUNT(*) FROM (SELECT 1 FROM audit_events WHERE {string.Join(" AND ", FilterConditions(query, indexed: true))} " +
                    "AND idx >= @from AND idx < @size LIMIT @probe) p")
                    .With("@from", from).With("@size", until).With("@probe", FilterProbeLimit);
                BindFilters(probe, query with { StartMicros = null, EndMicros = null }, caller, scoped: false);
                byScope = Convert.ToInt64(await probe.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) >= FilterProbeLimit;
            }

            await using var command = connection.Command(ListSql(query, caller, byScope)).With("@from", from).With("@size", until).With("@limit", pageSize + 1);
            BindFilters(command, query, caller);
            var events = await command.ListAsync(reader => AuditEntry.Decode(reader.GetInt64(0), (byte[])reader[1]), ct);

            // Audit pages continue from the next index (inclusive), so the position is the last index + 1.
            return KeysetPage.From(events.Select(e => (e.Index + 1, e)).ToList(), pageSize);
        }, cancellationToken);

    /// <summary>How many matches of a filter make a participant's own events lead its page query instead.</summary>
    internal const int FilterProbeLimit = 2000;

    /// <summary>
    /// The page query with only the conditions this query and caller have, so the engine can serve
    /// it from one index: the filter's (dataset, action, participant) or, <paramref name="byScope"/>,
    /// the caller's own (actor, subject, provider), with the other side only checked, never walked.
    /// </summary>
    internal static string ListSql(AuditQuery query, Caller caller, bool byScope = false)
    {
        var where = new List<string> { "idx >= @from", "idx < @size" };
        if (!caller.ReadsEverything)
        {
            // Who reads what: auditors and operators everything; others what they did, what was done to them,
            // and (providers) what concerns their datasets. Written so that only the leading side can use an index.
            var columns = caller.IsProvider ? new[] { "actor", "subject", "dataset_provider" } : ["actor", "subject"];
            where.Add(!byScope && HasIndexedFilter(query)
                ? $"@me IN ({string.Join(", ", columns)})"
                : $"({string.Join(" OR ", columns.Select(c => $"{c} = @me"))})");
        }

        where.AddRange(FilterConditions(query, indexed: !byScope));
        if (query.StartMicros is not null || query.EndMicros is not null)
        {
            where.Add(TimeFilter(query));
        }

        return $"SELECT idx, leaf FROM audit_events WHERE {string.Join(" AND ", where)} ORDER BY idx LIMIT @limit";
    }

    private static bool HasIndexedFilter(AuditQuery query) => query.Dataset is not null || query.Participant is not null || query.Action is not null;

    /// <summary>The dataset, participant and action conditions; unless <paramref name="indexed"/>, in a form no index serves ("|| ''").</summary>
    private static IEnumerable<string> FilterConditions(AuditQuery query, bool indexed)
    {
        string Column(string name) => indexed ? name : $"({name} || '')";
        if (query.Dataset is not null)
        {
            yield return $"{Column("dataset")} = @dataset";
        }

        if (query.Participant is not null)
        {
            yield return $"({Column("actor")} = @participant OR {Column("subject")} = @participant)";
        }

        if (query.Action is not null)
        {
            yield return $"{Column("action")} = @action";
        }
    }

    /// <summary>The parameters of exactly the conditions <see cref="ListSql"/> wrote.</summary>
    private static void BindFilters(DbCommand command, AuditQuery query, Caller caller, bool scoped = true)
    {
        if (scoped && !caller.ReadsEverything)
        {
            command.With("@me", caller.Participant);
        }

        foreach (var (name, value) in new (string, object?)[]
        {
            ("@dataset", query.Dataset), ("@participant", query.Participant), ("@action", query.Action),
            ("@start", query.StartMicros), ("@end", query.EndMicros),
        })
        {
            if (value is not null)
            {
                command.With(name, value);
            }
        }
    }

    private static string TimeFilter(AuditQuery query) => (query.StartMicros, query.EndMicros) switch
    {
        (not null, not null) => "time >= @start AND time < @end",
        (not null, null) => "time >= @start",
        _ => "time < @end",
    };

    /// <summary>The event at <paramref name="index"/>, or null when there is none.</summary>
    public Task<AuditEvent?> GetEventAsync(long index, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command("SELECT leaf FROM audit_events WHERE idx = @idx").With("@idx", index);
            return await command.ExecuteScalarAsync(ct) is byte[] leaf ? AuditEntry.Decode(index, leaf) : null;
        }, cancellationToken);

    /// <summary>
    /// A receipt for the event at <paramref name="index"/>: the event, a signed checkpoint that
    /// includes it (signed now if none does yet), and the inclusion proof against that checkpoint.
    /// </summary>
    public async Task<TransferReceipt> ReceiptAsync(long index, CheckpointSigner signer, CancellationToken cancellationToken)
    {
        var (checkpoint, events, proofs) = await ProveAsync([index], signer, cancellationToken);
        var receipt = new TransferReceipt { Event = events[0], Checkpoint = checkpoint };
        receipt.InclusionProof.Add(proofs[0].Select(ByteString.CopyFrom));
        return receipt;
    }

    /// <summary>
    /// The events at <paramref name="indexes"/>, a signed checkpoint that includes them all (signed now
    /// if none does yet), and each event's inclusion proof against it, in the order given.
    /// </summary>
    public async Task<(Checkpoint Checkpoint, List<AuditEvent> Events, List<List<byte[]>> Proofs)> ProveAsync(IReadOnlyList<long> indexes,
        CheckpointSigner signer, CancellationToken cancellationToken)
    {
        var newest = indexes.Max();
        var checkpoint = await LatestCheckpointAsync(signer, cancellationToken);
        if (checkpoint is null || checkpoint.Size <= newest)
        {
            // Signed on demand only when no checkpoint includes the events yet.
            await SignCheckpointAsync(signer, cancellationToken);
            checkpoint = await LatestCheckpointAsync(signer, cancellationToken)
                ?? throw new InvalidOperationException("No checkpoint after signing one.");
        }

        var events = new List<AuditEvent>(indexes.Count);
        var proofs = new List<List<byte[]>>(indexes.Count);
        foreach (var index in indexes)
        {
            events.Add(await GetEventAsync(index, cancellationToken)
                ?? throw new InvalidOperationException($"Audit event {index} is missing after it was written."));
            proofs.Add(await RangeHashesAsync(MerkleProofRanges.Inclusion(index, checkpoint.Size), cancellationToken));
        }

        return (checkpoint, events, proofs);
    }

    /// <summary>The newest signed checkpoint, or null before the first one is signed.</summary>
    public Task<Checkpoint?> LatestCheckpointAsync(CheckpointSigner signer, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command("SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new Checkpoint
                {
                    Origin = signer.Origin,
                    Size = reader.GetInt64(0),
                    RootHash = ByteString.CopyFrom((byte[])reader[1]),
                    Note = reader.GetString(2),
                    VerifierKey = signer.VerifierKey.Encoded,
                    // As the note says: a checkpoint signed before logs had ids names none.
                    LogId = CheckpointNote.ParseUnverified(reader.GetString(2)).LogId,
                }
                : null;
        }, cancellationToken);

    /// <summary>
    /// Signs and stores a checkpoint of the log as of this write, unless the newest one already
    /// covers it; returns the size the newest checkpoint covers.
    /// </summary>
    public Task<long> SignCheckpointAsync(CheckpointSigner signer, CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var signed = context.Command("SELECT MAX(size) FROM audit_checkpoints").ExecuteScalar();
            if (signed is long size && size >= context.TreeSize)
            {
                return size;
            }

            var root = context.TreeRoot();
            context.Command("INSERT INTO audit_checkpoints (size, root, note, create_time) VALUES (@size, @root, @note, @time)")
                .With("@size", context.TreeSize)
                .With("@root", root)
                .With("@note", signer.Sign(context.TreeSize, root))
                .With("@time", Timestamps.ToMicros(context.Now))
                .ExecuteNonQuery();
            return context.TreeSize;
        }, cancellationToken);

    /// <summary>The hashes of <paramref name="ranges"/>, read in one query from the stored subtrees.</summary>
    public Task<List<byte[]>> RangeHashesAsync(IReadOnlyList<(long Start, long End)> ranges, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var ids = ranges.SelectMany(r => MerkleRanges.Subtrees(r.Start, r.End)).Distinct().ToList();
            var nodes = await ReadNodesAsync(connection, ids, ct);
            return ranges.Select(r => MerkleRanges.Hash(r.Start, r.End, nodes)).ToList();
        }, cancellationToken);

    private static async Task<Dictionary<long, byte[]>> ReadNodesAsync(DbConnection connection, List<long> ids, CancellationToken cancellationToken)
    {
        var nodes = new Dictionary<long, byte[]>(ids.Count);
        if (ids.Count == 0)
        {
            return nodes;
        }

        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, hash FROM audit_nodes WHERE id IN ({string.Join(',', ids.Select((_, i) => $"@p{i}"))})";
        for (var i = 0; i < ids.Count; i++)
        {
            command.With($"@p{i}", ids[i]);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            nodes[reader.GetInt64(0)] = (byte[])reader[1];
        }

        return nodes;
    }
}
