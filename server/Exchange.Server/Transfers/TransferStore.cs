using System.Data.Common;
using System.Globalization;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>Transfers in the database, each change audited in its transaction.</summary>
internal sealed class TransferStore(Database database, Hosting.GatewayInstance gateway)
{
    /// <summary>How far before the bytes already sent a resume may start: what can be in flight when a connection drops.</summary>
    public const long ResumeSlack = 32L * 1024 * 1024;

    private const string OrphanReason = "the gateway serving it stopped";

    private const string TransferColumns =
        "t.id, t.grant_id, t.dataset_id, t.revision, t.consumer, t.provider, t.purpose, t.state, t.size_bytes, t.bytes_sent, t.create_time, t.end_time, t.failure_reason";

    /// <summary>
    /// Decides a download before its first byte: the caller is the grant's consumer, the grant is
    /// active (a resumed transfer needs it only unrevoked and unexpired), the purpose is one it
    /// allows and the revision exists. A new transfer uses up one of the grant's transfers.
    /// </summary>
    public Task<TransferStart> StartAsync(Caller caller, string grantId, (string DatasetId, long Number)? revision, string purpose,
        long offset, string? resumeId, string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            if (resumeId is null && requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "Download", requestId, fingerprint) is { } earlier)
            {
                // A retry of a call that started a transfer: continue that one.
                resumeId = earlier;
            }

            var grant = AccessStore.FindGrant(unit.Connection, unit.Transaction, grantId, unit.Now);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Errors.NotFound(AccessNames.Grant(grantId), exists: grant is not null);
            }

            var datasetId = DatasetNames.ParseId(grant.Dataset);
            Transfer? resumed = null;
            if (resumeId is not null)
            {
                resumed = FindTransfer(unit.Connection, unit.Transaction, resumeId);
                if (resumed is null || resumed.Grant != grant.Name || resumed.Consumer != caller.Participant)
                {
                    throw Errors.NotFound($"transfers/{resumeId}", exists: resumed is not null);
                }
            }

            // The role is checked at the time of the call: a participant whose token no longer says consumer downloads nothing.
            var denial = caller.Participant != grant.Consumer
                ? $"Only {grant.Consumer}, the consumer of '{grant.Name}', may download under it."
                : !caller.IsConsumer
                    ? $"Downloading needs the 'consumer' role, which this token of {caller.Participant} does not carry."
                    : Refusal(grant, purpose, resuming: resumed is not null);
            if (denial is not null)
            {
                return Deny(unit, caller, grant, purpose, denial);
            }

            var number = resumed is not null ? RevisionNumber(resumed.Revision)
                : revision is { } wanted ? (wanted.DatasetId == datasetId ? wanted.Number : -1)
                : (long)unit.Command("SELECT latest_revision FROM datasets WHERE id = @id").With("@id", datasetId).ExecuteScalar()!;
            if (number == 0)
            {
                throw Errors.FailedPrecondition($"'{grant.Dataset}' has no revision to download yet.");
            }

            var stored = FindRevision(unit.Connection, unit.Transaction, datasetId, number)
                ?? throw Errors.NotFound(revision is { } r ? DatasetNames.FormatRevision(r.DatasetId, r.Number) : grant.Dataset);
            if (revision is { } asked && resumed is not null && RevisionNumber(resumed.Revision) != asked.Number)
            {
                throw Errors.InvalidArgument($"'{resumed.Name}' is a transfer of {resumed.Revision}, not of revision {asked.Number}.");
            }

            if (resumed is null && offset != 0)
            {
                throw Errors.FailedPrecondition(
                    $"A new transfer starts at offset 0, not {offset}; to resume an interrupted one, name it in transfer.");
            }

            if (offset > stored.Revision.SizeBytes)
            {
                throw new RpcException(new Status(StatusCode.OutOfRange,
                    $"offset {offset} is past the end of {stored.Revision.Name} ({stored.Revision.SizeBytes} bytes)."));
            }

            string id;
            long attempt = 1;
            if (resumed is not null)
            {
                // One live stream per transfer, and a resume continues near where the last stream stopped:
                // resuming cannot be used to fetch the revision again without using another transfer.
                if (resumed.State == TransferState.Started)
                {
                    // Retryable: the previous stream is noticed as broken within moments.
                    throw new RpcException(new Status(StatusCode.Aborted, $"'{resumed.Name}' is still streaming; retry once that stream has ended."));
                }

                if (resumed.State != TransferState.Failed)
                {
                    throw Errors.FailedPrecondition($"'{resumed.Name}' is {resumed.State.ToString().ToLowerInvariant()}; only an interrupted transfer resumes.");
                }

                if (resumed.Purpose != purpose)
                {
                    throw Errors.InvalidArgument($"'{resumed.Name}' was started for the purpose '{resumed.Purpose}'; resume it with the same purpose.");
                }

                if (offset < resumed.BytesSent - ResumeSlack)
                {
                    throw Errors.FailedPrecondition(
                        $"'{resumed.Name}' already sent {resumed.BytesSent} bytes; resume from offset {resumed.BytesSent - ResumeSlack} or later.");
                }

                if (offset > resumed.BytesSent)
                {
                    // What the transfer records as sent is what this gateway sent, never the client's offset.
                    throw Errors.FailedPrecondition(
                        $"'{resumed.Name}' has sent {resumed.BytesSent} bytes; resume from offset {resumed.BytesSent} or earlier.");
                }

                id = resumeId!;
                attempt = (long)unit.Command("""
                    UPDATE transfers SET state = @state, end_time = NULL, failure_reason = '', attempt = attempt + 1, gateway = @gateway
                    WHERE id = @id RETURNING attempt
                    """).With("@state", (int)TransferState.Started).With("@gateway", gateway.Id).With("@id", id).ExecuteScalar()!;
                unit.Record(Entry(caller, AuditActions.TransferResume, $"transfers/{id}", grant, AuditOutcome.Success, new()
                {
                    ["offset"] = offset.ToString(CultureInfo.InvariantCulture),
                    ["revision"] = stored.Revision.Name,
                    ["purpose"] = purpose,
                }));
            }
            else
            {
                id = AccessNames.NewId();
                InsertTransfer(unit, id, grant, number, purpose, TransferState.Started, stored.Revision.SizeBytes, "");
                unit.Command("UPDATE transfers SET gateway = @gateway WHERE id = @id").With("@gateway", gateway.Id).With("@id", id).ExecuteNonQuery();
                if (requestId.Length > 0)
                {
                    IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "Download", requestId, fingerprint, id,
                        Timestamps.ToMicros(unit.Now));
                }

                unit.Command("UPDATE grants SET transfers_used = transfers_used + 1 WHERE id = @id").With("@id", grantId).ExecuteNonQuery();
                unit.Record(Entry(caller, AuditActions.TransferStart, $"transfers/{id}", grant, AuditOutcome.Success, new()
                {
                    ["grant"] = grant.Name,
                    ["revision"] = stored.Revision.Name,
                    ["purpose"] = purpose,
                    ["offset"] = offset.ToString(CultureInfo.InvariantCulture),
                }));
            }

            return new TransferStart(FindTransfer(unit.Connection, unit.Transaction, id), stored, grant, null, attempt);
        }, cancellationToken);

    /// <summary>
    /// Ends the stream <paramref name="attempt"/> of a transfer as COMPLETED or FAILED and records it;
    /// returns the audit index of that record, or null when that stream had already ended or been
    /// superseded by a resume (then nothing changes and nothing is recorded).
    /// </summary>
    public Task<long?> FinishAsync(Caller caller, Transfer transfer, Grant grant, long attempt, bool completed, long bytesSent, string detail) =>
        database.WriteAsync<long?>(unit =>
        {
            var state = completed ? TransferState.Completed : TransferState.Failed;
            var changed = unit.Command("""
                UPDATE transfers SET state = @state, bytes_sent = CASE WHEN @sent > bytes_sent THEN @sent ELSE bytes_sent END, end_time = @now, failure_reason = @reason
                WHERE id = @id AND state = @started AND attempt = @attempt
                """)
                .With("@state", (int)state).With("@sent", bytesSent).With("@now", Timestamps.ToMicros(unit.Now))
                .With("@reason", completed ? "" : detail).With("@id", transfer.Name["transfers/".Length..])
                .With("@started", (int)TransferState.Started).With("@attempt", attempt)
                .ExecuteNonQuery();
            if (changed == 0)
            {
                return null;
            }

            var details = new Dictionary<string, string>
            {
                ["grant"] = grant.Name,
                ["revision"] = transfer.Revision,
                ["bytes_sent"] = bytesSent.ToString(CultureInfo.InvariantCulture),
            };
            details[completed ? "sha256" : "reason"] = detail;
            var index = unit.Record(Entry(caller, completed ? AuditActions.TransferComplete : AuditActions.TransferFail, transfer.Name, grant,
                completed ? AuditOutcome.Success : AuditOutcome.Failed, details));
            if (completed)
            {
                unit.Command("UPDATE transfers SET receipt_index = @index WHERE id = @id")
                    .With("@index", index).With("@id", transfer.Name["transfers/".Length..]).ExecuteNonQuery();
            }

            return index;
        }, CancellationToken.None);

    /// <summary>
    /// Says that this gateway process is alive, so its streaming transfers are not taken for orphans,
    /// and records how far each of <paramref name="streams"/> has got; returns those whose transfer is
    /// no longer this stream's (another gateway failed it as an orphan), which must stop.
    /// </summary>
    public Task<List<LiveTransfers.Stream>> HeartbeatAsync(IReadOnlyList<LiveTransfers.Stream> streams, CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            unit.Command("""
                INSERT INTO gateways (id, seen_time) VALUES (@id, @now)
                ON CONFLICT (id) DO UPDATE SET seen_time = excluded.seen_time
                """).With("@id", gateway.Id).With("@now", Timestamps.ToMicros(unit.Now)).ExecuteNonQuery();
            var superseded = new List<LiveTransfers.Stream>();
            foreach (var stream in streams)
            {
                var still = unit.Command("""
                    UPDATE transfers SET bytes_sent = CASE WHEN @sent > bytes_sent THEN @sent ELSE bytes_sent END
                    WHERE id = @id AND state = @started AND attempt = @attempt
                    """).With("@sent", stream.Sent).With("@id", stream.Id).With("@started", (int)TransferState.Started)
                    .With("@attempt", stream.Attempt).ExecuteNonQuery();
                if (still == 0)
                {
                    superseded.Add(stream);
                }
            }

            return superseded;
        }, cancellationToken);

    /// <summary>
    /// Fails, and records, every STARTED transfer whose gateway process is gone: not this one, and not
    /// seen since <paramref name="aliveSince"/> (with <paramref name="onlyThisGateway"/>, any other is
    /// gone: nobody else writes this database). Each may then resume under the usual checks.
    /// </summary>
    public Task<int> FailOrphansAsync(DateTimeOffset aliveSince, bool onlyThisGateway, CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            var orphans = new List<(string Id, long BytesSent)>();
            using (var command = unit.Command("""
                SELECT t.id, t.bytes_sent FROM transfers t
                WHERE t.state = 1 AND t.gateway <> @me
                  AND (@only = 1 OR NOT EXISTS (SELECT 1 FROM gateways g WHERE g.id = t.gateway AND g.seen_time >= @since))
                """).With("@me", gateway.Id).With("@only", onlyThisGateway ? 1 : 0).With("@since", Timestamps.ToMicros(aliveSince)))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    orphans.Add((reader.GetString(0), reader.GetInt64(1)));
                }
            }

            foreach (var (id, bytesSent) in orphans)
            {
                unit.Command("""
                    UPDATE transfers SET state = @failed, end_time = @now, failure_reason = @reason WHERE id = @id AND state = @started
                    """).With("@failed", (int)TransferState.Failed).With("@now", Timestamps.ToMicros(unit.Now)).With("@reason", OrphanReason)
                    .With("@id", id).With("@started", (int)TransferState.Started).ExecuteNonQuery();
                var transfer = FindTransfer(unit.Connection, unit.Transaction, id)!;
                unit.Record(new AuditEntry(AuditActions.GatewayActor, AuditActions.TransferFail, transfer.Name, AuditOutcome.Failed,
                    Dataset: transfer.Dataset, Subject: transfer.Consumer, DatasetProvider: transfer.Provider,
                    Details: new Dictionary<string, string>
                    {
                        ["grant"] = transfer.Grant,
                        ["revision"] = transfer.Revision,
                        ["bytes_sent"] = bytesSent.ToString(CultureInfo.InvariantCulture),
                        ["reason"] = OrphanReason,
                    }));
            }

            unit.Command("DELETE FROM gateways WHERE seen_time < @since AND id <> @me")
                .With("@since", Timestamps.ToMicros(aliveSince)).With("@me", gateway.Id).ExecuteNonQuery();
            return orphans.Count;
        }, cancellationToken);

    public Task<Transfer?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindTransfer(connection, null, id), cancellationToken);

    /// <summary>The audit index of a completed transfer's completion record, or null.</summary>
    public Task<long?> ReceiptIndexAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection =>
            connection.Command("SELECT receipt_index FROM transfers WHERE id = @id").With("@id", id).ExecuteScalar() is long index ? index : (long?)null,
            cancellationToken);

    /// <summary>One page of the transfers <paramref name="caller"/> may see, in creation order after position <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Transfer> Page, long? Next)> ListAsync(Caller caller, string? grantId, string? datasetId, int state, long after,
        int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Transfer>, long?)>(connection =>
        {
            using var command = connection.Command($"""
                SELECT t.seq, {TransferColumns} FROM transfers t
                WHERE t.seq > @after
                  AND (@all = 1 OR t.consumer = @me OR t.provider = @me)
                  AND (CAST(@grant AS TEXT) IS NULL OR t.grant_id = @grant)
                  AND (CAST(@dataset AS TEXT) IS NULL OR t.dataset_id = @dataset)
                  AND (@state = 0 OR t.state = @state)
                ORDER BY t.seq LIMIT @limit
                """)
                .With("@after", after).With("@all", caller.ReadsEverything ? 1 : 0).With("@me", caller.Participant)
                .With("@grant", grantId).With("@dataset", datasetId).With("@state", state).With("@limit", pageSize + 1);
            using var reader = command.ExecuteReader();
            var rows = new List<(long Seq, Transfer Transfer)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), ReadTransfer(reader, 1)));
            }

            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    private static string? Refusal(Grant grant, string purpose, bool resuming) => grant.State switch
    {
        GrantState.Revoked => $"'{grant.Name}' was revoked: {grant.RevokeReason}",
        GrantState.Expired => $"'{grant.Name}' expired at {grant.Terms.ExpireTime.ToDateTimeOffset():O}.",
        GrantState.Exhausted when !resuming => $"'{grant.Name}' has used all of its {grant.Terms.MaxTransfers} transfers.",
        _ when !grant.Terms.Purposes.Contains(purpose) =>
            $"'{grant.Name}' does not allow the purpose '{purpose}'; it allows: {string.Join(", ", grant.Terms.Purposes)}.",
        _ => null,
    };

    private static TransferStart Deny(WriteUnit unit, Caller caller, Grant grant, string purpose, string reason)
    {
        var id = AccessNames.NewId();
        if (caller.Participant == grant.Consumer)
        {
            // The consumer's own refused attempt is a transfer it can list; anyone else's is only an audit event.
            InsertTransfer(unit, id, grant, 0, purpose, TransferState.Denied, 0, reason);
        }

        unit.Record(Entry(caller, AuditActions.TransferStart, $"transfers/{id}", grant, AuditOutcome.Denied,
            new() { ["grant"] = grant.Name, ["purpose"] = purpose, ["reason"] = reason }));
        return new TransferStart(null, null, grant, Errors.PermissionDenied(reason));
    }

    private static void InsertTransfer(WriteUnit unit, string id, Grant grant, long revision, string purpose, TransferState state, long size,
        string reason) =>
        unit.Command("""
            INSERT INTO transfers (id, grant_id, dataset_id, revision, consumer, provider, purpose, state, size_bytes, create_time, end_time, failure_reason)
            VALUES (@id, @grant, @dataset, @revision, @consumer, @provider, @purpose, @state, @size, @now, @end, @reason)
            """)
            .With("@id", id).With("@grant", grant.Name["grants/".Length..]).With("@dataset", DatasetNames.ParseId(grant.Dataset))
            .With("@revision", revision).With("@consumer", grant.Consumer).With("@provider", grant.Provider).With("@purpose", purpose)
            .With("@state", (int)state).With("@size", size).With("@now", Timestamps.ToMicros(unit.Now))
            .With("@end", state == TransferState.Denied ? Timestamps.ToMicros(unit.Now) : null).With("@reason", reason)
            .ExecuteNonQuery();

    private static AuditEntry Entry(Caller caller, string action, string resource, Grant grant, AuditOutcome outcome,
        Dictionary<string, string> details) =>
        new(caller.Participant, action, resource, outcome, Dataset: grant.Dataset, Subject: grant.Consumer,
            DatasetProvider: grant.Provider, Details: details);

    private static long RevisionNumber(string revisionName) => DatasetNames.ParseRevision(revisionName).Number;

    private static StoredRevision? FindRevision(DbConnection connection, DbTransaction? transaction, string datasetId, long number)
    {
        using var command = connection.Command("""
            SELECT r.number, r.size_bytes, r.sha256, r.media_type, r.create_time, r.blob_id, r.wrapped_key, r.kek_id, r.segment_size
            FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
            WHERE d.id = @id AND r.number = @n
            """, transaction).With("@id", datasetId).With("@n", number);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var revision = new Revision
        {
            Name = DatasetNames.FormatRevision(datasetId, reader.GetInt64(0)),
            SizeBytes = reader.GetInt64(1),
            Sha256 = ByteString.CopyFrom((byte[])reader[2]),
            MediaType = reader.GetString(3),
            CreateTime = Timestamps.FromMicros(reader.GetInt64(4)),
        };
        return new StoredRevision(revision, reader.GetString(5), (byte[])reader[6], reader.GetString(7), reader.GetInt32(8));
    }

    private static Transfer? FindTransfer(DbConnection connection, DbTransaction? transaction, string id)
    {
        using var command = connection.Command($"SELECT {TransferColumns} FROM transfers t WHERE t.id = @id", transaction).With("@id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTransfer(reader, 0) : null;
    }

    private static Transfer ReadTransfer(DbDataReader reader, int o)
    {
        var datasetId = reader.GetString(o + 2);
        var revision = reader.GetInt64(o + 3);
        return new Transfer
        {
            Name = $"transfers/{reader.GetString(o)}",
            Grant = AccessNames.Grant(reader.GetString(o + 1)),
            Dataset = DatasetNames.Format(datasetId),
            Revision = revision == 0 ? "" : DatasetNames.FormatRevision(datasetId, revision),
            Consumer = reader.GetString(o + 4),
            Provider = reader.GetString(o + 5),
            Purpose = reader.GetString(o + 6),
            State = (TransferState)reader.GetInt32(o + 7),
            SizeBytes = reader.GetInt64(o + 8),
            BytesSent = reader.GetInt64(o + 9),
            CreateTime = Timestamps.FromMicros(reader.GetInt64(o + 10)),
            EndTime = reader.IsDBNull(o + 11) ? null : Timestamps.FromMicros(reader.GetInt64(o + 11)),
            FailureReason = reader.GetString(o + 12),
        };
    }
}
