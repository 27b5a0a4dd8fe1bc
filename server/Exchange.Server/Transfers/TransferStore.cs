using System.Data.Common;
using System.Globalization;
using Exchange.Server.Access;
using Exchange.Server.Access.Model;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Server.Transfers.Model;

namespace Exchange.Server.Transfers;

/// <summary>Transfers in the database, each change audited in its transaction.</summary>
internal sealed class TransferStore(Database database, IRevisions revisions, IGrants grants, IDerivations derivations, GatewayInstance gateway,
    IMeter meter)
{
    /// <summary>
    /// How far, over all of a transfer's resumes together, they may go back before the bytes already
    /// sent: what can be in flight when a connection drops. A revision smaller than this may be gone
    /// back over once, whole.
    /// </summary>
    public const long ResumeSlack = 32L * 1024 * 1024;

    private const string OrphanReason = "the gateway serving it stopped";

    private const string UnrecordedReason = "the gateway could not record how the stream ended";

    private const string TransferColumns =
        "t.id, t.grant_id, t.dataset_id, t.revision, t.consumer, t.provider, t.purpose, t.state, t.size_bytes, t.bytes_sent, t.create_time, t.end_time, t.failure_reason, "
        + "t.format";

    /// <summary>
    /// Decides a download before its first byte: the caller is the grant's consumer, the grant is
    /// active (a resumed transfer needs it only unrevoked and unexpired), the purpose is one it
    /// allows and the revision exists. A new transfer uses up one of the grant's transfers. A
    /// refusal of the caller is recorded (for the consumer, as a DENIED transfer too) and returned.
    /// </summary>
    public Task<Decision<TransferStart>> StartAsync(Caller caller, DownloadAsk ask, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<TransferStart>>(unit =>
        {
            var resumeId = ask.Resume;
            if (resumeId is null && ask.RequestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "Download", ask.RequestId, ask.Fingerprint) is { } earlier)
            {
                // A retry of a call that started a transfer: continue that one.
                resumeId = new TransferId(earlier);
            }

            var grant = grants.Find(unit, ask.Grant);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Refusal.NotFound(ask.Grant.Name, exists: grant is not null);
            }

            Transfer? resumed = null;
            if (resumeId is { } resuming)
            {
                resumed = Find(unit.Connection, unit.Transaction, resuming);
                if (resumed is null || resumed.Grant != grant.Id || resumed.Consumer != caller.Participant)
                {
                    throw Refusal.NotFound(resuming.Name, exists: resumed is not null);
                }
            }

            // The role is checked at the time of the call: a participant whose token no longer says consumer downloads nothing.
            var denial = caller.Participant != grant.Consumer
                ? $"Only {grant.Consumer}, the consumer of '{grant.Id.Name}', may download under it."
                : !caller.IsConsumer
                    ? $"Downloading needs the 'consumer' role, which this token of {caller.Participant} does not carry."
                    : DenialReason(grant, ask.Purpose, resuming: resumed is not null) ?? derivations.DownloadBlock(unit, grant.Dataset);
            if (denial is not null)
            {
                return Deny(unit, caller, grant, ask.Purpose, denial);
            }

            var number = resumed is not null ? RevisionNumber(resumed)
                : ask.Revision is { } wanted ? (wanted.Dataset == grant.Dataset ? wanted.Number : -1)
                : revisions.Latest(unit, grant.Dataset);
            if (number == 0)
            {
                throw Refusal.Precondition($"'{grant.Dataset.Name}' has no revision to download yet.");
            }

            var stored = revisions.Find(unit, new RevisionId(grant.Dataset, number))
                ?? throw Refusal.NotVisible(ask.Revision is { } r ? r.Name : grant.Dataset.Name);
            if (ask.Revision is { } asked && resumed is not null && RevisionNumber(resumed) != asked.Number)
            {
                throw Refusal.Invalid($"'{resumed.Id.Name}' is a transfer of {resumed.Revision!.Value.Name}, not of revision {asked.Number}.");
            }

            if (resumed is null && ask.Offset != 0)
            {
                throw Refusal.Precondition(
                    $"A new transfer starts at offset 0, not {ask.Offset}; to resume an interrupted one, name it in transfer.");
            }

            var output = Output(stored.Revision, grant, resumed?.Format ?? ask.Format);
            if (resumed is not null && ask.Format != V1.TableFormat.Unspecified && ask.Format != resumed.Format)
            {
                throw Refusal.Invalid($"'{resumed.Id.Name}' delivers {FormatName(resumed.Format)}; resume it in the same format.");
            }

            // An encoded table's size is known only at its end; the stream refuses an offset past it then.
            if (output is null && ask.Offset > stored.Revision.SizeBytes)
            {
                throw Refusal.OutOfRange($"offset {ask.Offset} is past the end of {stored.Revision.Id.Name} ({stored.Revision.SizeBytes} bytes).");
            }

            var offset = ask.Offset.ToString(CultureInfo.InvariantCulture);
            TransferId id;
            long attempt = 1;
            if (resumed is not null)
            {
                var resent = (long)unit.Command("SELECT bytes_resent FROM transfers WHERE id = @id").With("@id", resumed.Id.Value).ExecuteScalar()!;
                CheckResumable(resumed, ask, resent);
                id = resumed.Id;
                attempt = (long)unit.Command("""
                    UPDATE transfers SET state = @state, end_time = NULL, failure_reason = '', attempt = attempt + 1, gateway = @gateway,
                        bytes_resent = bytes_resent + @back
                    WHERE id = @id RETURNING attempt
                    """).With("@state", (int)TransferState.Started).With("@gateway", gateway.Id).With("@back", Math.Max(resumed.BytesSent - ask.Offset, 0))
                    .With("@id", id.Value).ExecuteScalar()!;
                unit.Record(Entry(caller, AuditActions.TransferResume, id, grant, Outcome.Success, new()
                {
                    ["offset"] = offset,
                    ["revision"] = stored.Revision.Id.Name,
                    ["purpose"] = ask.Purpose,
                }));
            }
            else
            {
                id = TransferId.New();
                Insert(unit, id, grant, number, ask.Purpose, TransferState.Started, output is null ? stored.Revision.SizeBytes : 0, "", gateway.Id,
                    output?.Format ?? V1.TableFormat.Unspecified);
                if (ask.RequestId.Length > 0)
                {
                    IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "Download", ask.RequestId, ask.Fingerprint, id.Value,
                        Timestamps.ToMicros(unit.Now));
                }

                grants.CountTransfer(unit, grant.Id);
                unit.Record(Entry(caller, AuditActions.TransferStart, id, grant, Outcome.Success, With(output, new()
                {
                    ["grant"] = grant.Id.Name,
                    ["revision"] = stored.Revision.Id.Name,
                    ["purpose"] = ask.Purpose,
                    ["offset"] = offset,
                })));
            }

            return new TransferStart(Find(unit.Connection, unit.Transaction, id)!, stored, grant, attempt, output);
        }, cancellationToken);

    /// <summary>
    /// Decides a preview of what <paramref name="grantId"/> delivers of <paramref name="revisionId"/>
    /// (null: the latest): only the grant's provider may, and only of a table. A refusal is recorded
    /// here; a preview once its rows are read (<see cref="RecordPreviewAsync"/>).
    /// </summary>
    public Task<Decision<(StoredRevision Revision, TableOutput Output, Grant Grant)>> PreviewAsync(Caller caller, GrantId grantId,
        RevisionId? revisionId, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(StoredRevision, TableOutput, Grant)>>(unit =>
        {
            var grant = grants.Find(unit, grantId);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Refusal.NotFound(grantId.Name, exists: grant is not null);
            }

            var entry = new AuditEntry(caller.Participant, AuditActions.TransferPreview, grant.Id.Name, Outcome.Denied, Dataset: grant.Dataset.Name,
                Subject: grant.Consumer, DatasetProvider: grant.Provider);
            // The role is checked at the time of the call, as for every other act of a provider's.
            var denial = caller.Participant != grant.Provider
                ? $"Only {grant.Provider}, the provider of '{grant.Id.Name}', may preview what it delivers; its consumer downloads it."
                : !caller.IsProvider
                    ? $"Previewing what a grant delivers needs the 'provider' role, which this token of {caller.Participant} does not carry."
                    : null;
            if (denial is not null)
            {
                return unit.Deny(entry, denial);
            }

            var number = revisionId is { } wanted ? (wanted.Dataset == grant.Dataset ? wanted.Number : -1) : revisions.Latest(unit, grant.Dataset);
            var stored = (number == 0 ? null : revisions.Find(unit, new RevisionId(grant.Dataset, number)))
                ?? throw Refusal.NotVisible(revisionId?.Name ?? grant.Dataset.Name);
            var table = stored.Revision.Table ?? throw Refusal.Precondition($"{stored.Revision.Id.Name} is not a table; there are no rows to preview.");
            var output = Output(stored.Revision, grant, V1.TableFormat.Unspecified)
                ?? new TableOutput(table.Format, table.Format, null, V1.Schema.Parser.ParseFrom(table.Schema).Columns);
            return (stored, output, grant);
        }, cancellationToken);

    /// <summary>Records a preview whose rows were read: which revision, and the view that shaped them.</summary>
    public Task RecordPreviewAsync(Caller caller, Grant grant, RevisionId revision, TableOutput output) =>
        database.WriteAsync(unit =>
        {
            var details = new Dictionary<string, string> { ["revision"] = revision.Name };
            if (output.View is { } view)
            {
                details["view_sha256"] = Tables.ViewDigest.Hex(view);
            }

            return unit.Record(new AuditEntry(caller.Participant, AuditActions.TransferPreview, grant.Id.Name, Outcome.Success, Dataset: grant.Dataset.Name,
                Subject: grant.Consumer, DatasetProvider: grant.Provider, Details: details));
        }, CancellationToken.None);

    /// <summary>
    /// Ends the stream <paramref name="attempt"/> of a transfer as COMPLETED or FAILED and records it;
    /// returns the audit index of that record, or null when that stream had already ended or been
    /// superseded by a resume (then nothing changes and nothing is recorded).
    /// </summary>
    public Task<long?> FinishAsync(Caller caller, Transfer transfer, Grant grant, long attempt, bool completed, long bytesSent, string detail,
        TableOutput? output = null) =>
        database.WriteAsync<long?>(unit =>
        {
            var state = completed ? TransferState.Completed : TransferState.Failed;
            // A completed encoding has its size at last: everything it sent.
            // What the transfer has sent in all, returned by the update: the meter charges by it.
            var total = unit.Command("""
                UPDATE transfers SET state = @state, bytes_sent = CASE WHEN @sent > bytes_sent THEN @sent ELSE bytes_sent END, end_time = @now, failure_reason = @reason,
                    size_bytes = CASE WHEN @sized = 1 THEN @sent ELSE size_bytes END
                WHERE id = @id AND state = @started AND attempt = @attempt
                RETURNING bytes_sent
                """)
                .With("@state", (int)state).With("@sent", bytesSent).With("@now", Timestamps.ToMicros(unit.Now))
                .With("@sized", completed && output is not null ? 1 : 0)
                .With("@reason", completed ? "" : detail).With("@id", transfer.Id.Value)
                .With("@started", (int)TransferState.Started).With("@attempt", attempt)
                .ExecuteScalar();
            if (total is not long sent)
            {
                return null;
            }

            var details = With(output, new Dictionary<string, string>
            {
                ["grant"] = grant.Id.Name,
                ["revision"] = RevisionName(transfer),
                ["bytes_sent"] = bytesSent.ToString(CultureInfo.InvariantCulture),
            });
            details[completed ? "sha256" : "reason"] = detail;
            var index = unit.Record(Entry(caller, completed ? AuditActions.TransferComplete : AuditActions.TransferFail, transfer.Id, grant,
                completed ? Outcome.Success : Outcome.Failed, details));
            if (completed)
            {
                unit.Command("UPDATE transfers SET receipt_index = @index WHERE id = @id")
                    .With("@index", index).With("@id", transfer.Id.Value).ExecuteNonQuery();
            }

            meter.TransferEnded(unit, grant, transfer.Id.Name, attempt, completed, sent, index);
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
                    """).With("@sent", stream.Sent).With("@id", stream.Id.Value).With("@started", (int)TransferState.Started)
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
            var orphans = new List<(TransferId Id, long BytesSent, long Attempt)>();
            using (var command = unit.Command("""
                SELECT t.id, t.bytes_sent, t.attempt FROM transfers t
                WHERE t.state = 1 AND t.gateway <> @me
                  AND (@only = 1 OR NOT EXISTS (SELECT 1 FROM gateways g WHERE g.id = t.gateway AND g.seen_time >= @since))
                """).With("@me", gateway.Id).With("@only", onlyThisGateway ? 1 : 0).With("@since", Timestamps.ToMicros(aliveSince)))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    orphans.Add((new TransferId(reader.GetString(0)), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            foreach (var (id, bytesSent, attempt) in orphans)
            {
                FailStarted(unit, id, attempt, bytesSent, OrphanReason);
            }

            unit.Command("DELETE FROM gateways WHERE seen_time < @since AND id <> @me")
                .With("@since", Timestamps.ToMicros(aliveSince)).With("@me", gateway.Id).ExecuteNonQuery();
            return orphans.Count;
        }, cancellationToken);

    /// <summary>
    /// Fails, and records as the gateway, a stream of this gateway's whose end could not be recorded
    /// when it ended (<see cref="LiveTransfers.Stream.EndUnrecorded"/>), so its transfer does not stay
    /// STARTED; false when the transfer has moved on meanwhile.
    /// </summary>
    public Task<bool> FailUnrecordedAsync(LiveTransfers.Stream stream, CancellationToken cancellationToken) =>
        database.WriteAsync(unit => FailStarted(unit, stream.Id, stream.Attempt, stream.Sent, UnrecordedReason), cancellationToken);

    private bool FailStarted(WriteUnit unit, TransferId id, long attempt, long bytesSent, string reason)
    {
        var failed = unit.Command("""
            UPDATE transfers SET state = @failed, bytes_sent = CASE WHEN @sent > bytes_sent THEN @sent ELSE bytes_sent END, end_time = @now,
                failure_reason = @reason
            WHERE id = @id AND state = @started AND attempt = @attempt
            """).With("@failed", (int)TransferState.Failed).With("@sent", bytesSent).With("@now", Timestamps.ToMicros(unit.Now)).With("@reason", reason)
            .With("@id", id.Value).With("@started", (int)TransferState.Started).With("@attempt", attempt).ExecuteNonQuery();
        if (failed == 0)
        {
            return false;
        }

        var transfer = Find(unit.Connection, unit.Transaction, id)!;
        var index = unit.Record(new AuditEntry(AuditActions.GatewayActor, AuditActions.TransferFail, transfer.Id.Name, Outcome.Failed,
            Dataset: transfer.Dataset.Name, Subject: transfer.Consumer, DatasetProvider: transfer.Provider,
            Details: new Dictionary<string, string>
            {
                ["grant"] = transfer.Grant.Name,
                ["revision"] = RevisionName(transfer),
                ["bytes_sent"] = bytesSent.ToString(CultureInfo.InvariantCulture),
                ["reason"] = reason,
            }));
        meter.TransferEnded(unit, grants.Find(unit, transfer.Grant)!, transfer.Id.Name, attempt, completed: false, bytesSent, index);
        return true;
    }

    /// <summary>Whether lineage stops <paramref name="dataset"/>'s downloads now (checked again once a download watches for it).</summary>
    public Task<bool> LineageStoppedAsync(DatasetId dataset, CancellationToken cancellationToken) =>
        database.ReadAsync((connection, ct) => Lineage.LineageStops.StoppedAsync(connection, dataset, ct), cancellationToken);

    public Task<Transfer?> GetAsync(TransferId id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Prepared($"SELECT {TransferColumns} FROM transfers t WHERE t.id = @id").With("@id", id.Value);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? Read(reader, 0) : null;
        }, cancellationToken);

    /// <summary>The audit index of a completed transfer's completion record, or null.</summary>
    public Task<long?> ReceiptIndexAsync(TransferId id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Prepared("SELECT receipt_index FROM transfers WHERE id = @id").With("@id", id.Value);
            return await command.ExecuteScalarAsync(ct) is long index ? index : (long?)null;
        }, cancellationToken);

    /// <summary>
    /// One page of the transfers <paramref name="caller"/> may see, under <paramref name="grant"/>, of
    /// <paramref name="dataset"/> and in <paramref name="state"/> (each: any when null), in creation
    /// order after position <paramref name="after"/>.
    /// </summary>
    public Task<(IReadOnlyList<Transfer> Page, long? Next)> ListAsync(Caller caller, GrantId? grant, DatasetId? dataset, TransferState? state,
        long after, int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Prepared($"""
                SELECT t.seq, {TransferColumns} FROM transfers t
                WHERE t.seq > @after
                  AND (@all = 1 OR t.consumer = @me OR t.provider = @me)
                  AND (CAST(@grant AS TEXT) IS NULL OR t.grant_id = @grant)
                  AND (CAST(@dataset AS TEXT) IS NULL OR t.dataset_id = @dataset)
                  AND (@state = 0 OR t.state = @state)
                ORDER BY t.seq LIMIT @limit
                """)
                .With("@after", after).With("@all", caller.ReadsEverything ? 1 : 0).With("@me", caller.Participant)
                .With("@grant", grant?.Value).With("@dataset", dataset?.Value).With("@state", (int?)state ?? 0).With("@limit", pageSize + 1);
            return KeysetPage.From(await command.ListAsync(reader => (reader.GetInt64(0), Read(reader, 1)), ct), pageSize);
        }, cancellationToken);

    /// <summary>Why the grant does not allow this download, or null when it does.</summary>
    private static string? DenialReason(Grant grant, string purpose, bool resuming) => grant.State switch
    {
        GrantState.Revoked => $"'{grant.Id.Name}' was revoked: {grant.RevokeReason}",
        GrantState.Expired => $"'{grant.Id.Name}' expired at {grant.Terms.ExpireTime.GetValueOrDefault():O}.",
        GrantState.Exhausted when !resuming => $"'{grant.Id.Name}' has used all of its {grant.Terms.MaxTransfers} transfers.",
        _ when grant.Terms.IsCompute => $"'{grant.Id.Name}' is a compute grant: it allows aggregate queries (ComputeService.RunQuery), not downloads.",
        _ when !grant.Terms.Purposes.Contains(purpose) =>
            $"'{grant.Id.Name}' does not allow the purpose '{purpose}'; it allows: {string.Join(", ", grant.Terms.Purposes)}.",
        _ => null,
    };

    /// <summary>
    /// One live stream per transfer, and a resume continues near where the last stream stopped:
    /// resuming cannot be used to fetch the revision again without using another transfer, neither
    /// at once nor a little at a time (<paramref name="resent"/>: what earlier resumes went back over).
    /// </summary>
    private static void CheckResumable(Transfer resumed, DownloadAsk ask, long resent)
    {
        var name = resumed.Id.Name;
        if (resumed.State == TransferState.Started)
        {
            // Retryable: the previous stream is noticed as broken within moments.
            throw Refusal.Busy($"'{name}' is still streaming; retry once that stream has ended.");
        }

        if (resumed.State != TransferState.Failed)
        {
            throw Refusal.Precondition($"'{name}' is {resumed.State.ToString().ToLowerInvariant()}; only an interrupted transfer resumes.");
        }

        if (resumed.Purpose != ask.Purpose)
        {
            throw Refusal.Invalid($"'{name}' was started for the purpose '{resumed.Purpose}'; resume it with the same purpose.");
        }

        // An encoded table's size is known only once it completes; what was sent of it is a lower bound.
        var slack = Math.Min(ResumeSlack, Math.Max(resumed.SizeBytes, resumed.BytesSent));
        var earliest = resumed.BytesSent - Math.Max(slack - resent, 0);
        if (ask.Offset < earliest)
        {
            throw Refusal.Precondition(resent == 0
                ? $"'{name}' already sent {resumed.BytesSent} bytes; resume from offset {earliest} or later."
                : $"'{name}' already sent {resumed.BytesSent} bytes, and its earlier resumes went back over {resent} of them, of the {slack} " +
                  $"all its resumes may; resume from offset {earliest} or later.");
        }

        if (ask.Offset > resumed.BytesSent)
        {
            // What the transfer records as sent is what this gateway sent, never the client's offset.
            throw Refusal.Precondition(
                $"'{name}' has sent {resumed.BytesSent} bytes; resume from offset {resumed.BytesSent} or earlier.");
        }
    }

    private static Denial Deny(WriteUnit unit, Caller caller, Grant grant, string purpose, string reason)
    {
        var id = TransferId.New();
        if (caller.Participant == grant.Consumer)
        {
            // The consumer's own refused attempt is a transfer it can list; anyone else's is only an audit event.
            Insert(unit, id, grant, 0, purpose, TransferState.Denied, 0, reason, gateway: "");
        }

        return unit.Deny(Entry(caller, AuditActions.TransferStart, id, grant, Outcome.Denied,
            new() { ["grant"] = grant.Id.Name, ["purpose"] = purpose }), reason);
    }

    /// <summary>
    /// The number of the revision a resumed transfer sends. A DENIED transfer has none: it never
    /// started, so it does not resume.
    /// </summary>
    private static long RevisionNumber(Transfer resumed) => resumed.Revision?.Number
        ?? throw Refusal.Precondition($"'{resumed.Id.Name}' is {resumed.State.ToString().ToLowerInvariant()}; only an interrupted transfer resumes.");

    private static string RevisionName(Transfer transfer) => transfer.Revision?.Name ?? "";

    /// <summary>
    /// How a table is delivered when not as stored: under the grant's view, or in a format other
    /// than its own; null for the bytes as stored. Neither applies to bytes that are not a table.
    /// </summary>
    private static TableOutput? Output(Revision revision, Grant grant, V1.TableFormat format)
    {
        var view = grant.Terms.View;
        var table = revision.Table;
        if (view is null && (format == V1.TableFormat.Unspecified || format == table?.Format))
        {
            return null;
        }

        if (table is null)
        {
            throw Refusal.Precondition(view is not null
                ? $"'{grant.Id.Name}' delivers a view of a table, and {revision.Id.Name} is not a table."
                : $"{revision.Id.Name} is not a table; it is delivered as stored, without format.");
        }

        if (!Enum.IsDefined(format))
        {
            throw Refusal.Invalid($"format {(int)format} is not a known table format.");
        }

        var columns = V1.Schema.Parser.ParseFrom(table.Schema).Columns;
        if (view is not null)
        {
            try
            {
                Tables.ViewValidation.Validate(view, columns, "the grant's view");
            }
            catch (Refusal misfit)
            {
                // The grant was right for the table it was approved on; this revision's columns differ.
                throw Refusal.Precondition($"{revision.Id.Name} does not have the shape the grant's view was approved for: {misfit.Message}");
            }
        }

        return new TableOutput(format == V1.TableFormat.Unspecified ? table.Format : format, table.Format, view, columns);
    }

    /// <summary><paramref name="details"/> with what an encoded delivery adds: its format and the SHA-256 of its view.</summary>
    private static Dictionary<string, string> With(TableOutput? output, Dictionary<string, string> details)
    {
        if (output is not null)
        {
            details["format"] = FormatName(output.Format);
            if (output.View is { } view)
            {
                details["view_sha256"] = Tables.ViewDigest.Hex(view);
            }
        }

        return details;
    }

    private static string FormatName(V1.TableFormat format) => format == V1.TableFormat.Unspecified ? "the bytes as stored" : format.ToString().ToLowerInvariant();

    /// <summary>Inserts a transfer; a streaming one names the gateway process serving it (none for a denied one).</summary>
    private static void Insert(WriteUnit unit, TransferId id, Grant grant, long revision, string purpose, TransferState state, long size,
        string reason, string gateway, V1.TableFormat format = V1.TableFormat.Unspecified) =>
        unit.Command("""
            INSERT INTO transfers (id, grant_id, dataset_id, revision, consumer, provider, purpose, state, size_bytes, create_time, end_time, failure_reason, gateway, format)
            VALUES (@id, @grant, @dataset, @revision, @consumer, @provider, @purpose, @state, @size, @now, @end, @reason, @gateway, @format)
            """)
            .With("@id", id.Value).With("@grant", grant.Id.Value).With("@dataset", grant.Dataset.Value)
            .With("@revision", revision).With("@consumer", grant.Consumer).With("@provider", grant.Provider).With("@purpose", purpose)
            .With("@state", (int)state).With("@size", size).With("@now", Timestamps.ToMicros(unit.Now))
            .With("@end", state == TransferState.Denied ? Timestamps.ToMicros(unit.Now) : null).With("@reason", reason)
            .With("@gateway", gateway).With("@format", (int)format)
            .ExecuteNonQuery();

    private static AuditEntry Entry(Caller caller, string action, TransferId transfer, Grant grant, Outcome outcome,
        Dictionary<string, string> details) =>
        new(caller.Participant, action, transfer.Name, outcome, Dataset: grant.Dataset.Name, Subject: grant.Consumer,
            DatasetProvider: grant.Provider, Details: details);

    private static Transfer? Find(DbConnection connection, DbTransaction? transaction, TransferId id)
    {
        using var command = connection.Command($"SELECT {TransferColumns} FROM transfers t WHERE t.id = @id", transaction).With("@id", id.Value);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader, 0) : null;
    }

    private static Transfer Read(DbDataReader reader, int o)
    {
        var dataset = new DatasetId(reader.GetString(o + 2));
        var revision = reader.GetInt64(o + 3);
        return new Transfer(
            new TransferId(reader.GetString(o)),
            new GrantId(reader.GetString(o + 1)),
            dataset,
            revision == 0 ? null : new RevisionId(dataset, revision),
            reader.GetString(o + 4),
            reader.GetString(o + 5),
            reader.GetString(o + 6),
            (TransferState)reader.GetInt32(o + 7),
            reader.GetInt64(o + 8),
            reader.GetInt64(o + 9),
            FromMicros(reader.GetInt64(o + 10)),
            reader.IsDBNull(o + 11) ? null : FromMicros(reader.GetInt64(o + 11)),
            reader.GetString(o + 12),
            (V1.TableFormat)reader.GetInt32(o + 13));
    }

    private static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
}
