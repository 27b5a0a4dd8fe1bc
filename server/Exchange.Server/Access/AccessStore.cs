using System.Data.Common;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Server.Transfers;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Server.Access;

/// <summary>
/// Access requests and grants in the embedded database. Every decision checks the caller's
/// rights and the object's state inside the writer's transaction and records itself there, so
/// two racing decisions cannot both succeed and none goes unrecorded.
/// </summary>
internal sealed class AccessStore(Database database)
{
    private const string RequestColumns =
        "r.id, r.dataset_id, r.provider, r.consumer, r.purpose, r.requested_terms, r.state, r.grant_id, r.decision_reason, r.create_time, r.decide_time";

    private const string GrantColumns =
        "g.id, g.dataset_id, g.consumer, g.provider, g.access_request_id, g.terms, g.transfers_used, g.revoke_time, g.revoke_reason, g.create_time";

    // Mirrors TermsPolicy.StateOf for filtering in SQL.
    private const string GrantStateSql = """
        CASE WHEN g.revoke_time IS NOT NULL THEN 2
             WHEN g.expire_time IS NOT NULL AND g.expire_time <= @now THEN 3
             WHEN g.max_transfers > 0 AND g.transfers_used >= g.max_transfers THEN 4
             ELSE 1 END
        """;

    /// <summary>
    /// Files a PENDING request for a LISTED dataset, approving it at once when the dataset's
    /// automatic-approval terms cover it. With a request id, a retry returns the first result.
    /// </summary>
    public Task<(AccessRequest Request, Grant? Grant)> RequestAsync(Caller caller, string datasetId, string purpose, Terms terms,
        string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync<(AccessRequest, Grant?)>(context =>
        {
            var (connection, transaction) = (context.Connection, context.Transaction);
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(connection, transaction, caller.Participant, "RequestAccess", requestId, fingerprint) is { } existing)
            {
                var earlier = FindRequest(connection, transaction, AccessNames.ParseRequest(existing))!;
                return (earlier, earlier.Grant.Length == 0 ? null : FindGrant(connection, transaction, AccessNames.ParseGrant(earlier.Grant), context.Now));
            }

            var datasetName = DatasetNames.Format(datasetId);
            var dataset = CatalogStore.FindVisible(connection, transaction, datasetId, caller) ?? throw Errors.NotFound(datasetName);
            var autoTerms = dataset.AutoApprovalTerms;
            if (!caller.IsConsumer)
            {
                throw Denial(caller, AuditActions.AccessRequest, datasetName, dataset, caller.Participant,
                    Errors.PermissionDenied("Only participants with the 'consumer' role may request access."));
            }

            if (dataset.Provider == caller.Participant)
            {
                throw Errors.FailedPrecondition($"You provide '{datasetName}'; there is no access to request.");
            }

            if (dataset.State != DatasetState.Listed)
            {
                throw Errors.FailedPrecondition($"'{datasetName}' is not listed; access can be requested only to a listed dataset.");
            }

            if (context.Command("SELECT id FROM access_requests WHERE dataset_id = @d AND consumer = @c AND state = @pending")
                    .With("@d", datasetId).With("@c", caller.Participant).With("@pending", (int)AccessRequestState.Pending)
                    .ExecuteScalar() is string pending)
            {
                throw Errors.AlreadyExists(
                    $"You already have a pending request for '{datasetName}': {AccessNames.Request(pending)}. Withdraw it or wait for the decision.");
            }

            // Automatic approval is a quota per consumer and dataset, not per request: while an automatic
            // grant is active, asking again under the automatic terms gets no second one; once it is used
            // up, expired or revoked, the provider decides (a revocation must not be undone by asking again).
            // What the consumer left unset it asks for as the automatic terms allow; what applies is recorded, never a 0 it did not mean.
            string? pendingReason = null;
            if (autoTerms is not null)
            {
                var applied = TermsPolicy.Complete(terms, autoTerms);
                pendingReason = TermsPolicy.BeyondAutomatic(autoTerms, applied);
                if (pendingReason is null)
                {
                    terms = applied;
                }
            }

            var automatic = autoTerms is not null && pendingReason is null;
            if (automatic && context.Command("""
                    SELECT id FROM grants WHERE dataset_id = @d AND consumer = @c AND automatic = 1 ORDER BY seq DESC LIMIT 1
                    """).With("@d", datasetId).With("@c", caller.Participant).ExecuteScalar() is string earlierId)
            {
                var earlier = FindGrant(connection, transaction, earlierId, context.Now)!;
                if (earlier.State == GrantState.Active)
                {
                    throw Errors.FailedPrecondition(
                        $"You already hold {earlier.Name} on '{datasetName}' under its automatic terms; download under it, " +
                        "or ask for terms beyond them for the provider to decide.");
                }

                automatic = false;
                pendingReason = $"automatic approval was already used by {earlier.Name}, now {earlier.State.ToString().ToLowerInvariant()}";
            }

            var id = AccessNames.NewId();
            var name = AccessNames.Request(id);
            var now = Timestamps.ToMicros(context.Now);
            // A request the automatic terms did not cover says why, so the consumer need not guess.
            var reason = automatic || pendingReason is null ? "" : $"Not approved automatically: {pendingReason}; the provider decides.";
            context.Command("""
                INSERT INTO access_requests (id, dataset_id, provider, consumer, purpose, requested_terms, state, create_time, decision_reason)
                VALUES (@id, @dataset, @provider, @consumer, @purpose, @terms, @state, @now, @reason)
                """)
                .With("@id", id).With("@dataset", datasetId).With("@provider", dataset.Provider).With("@consumer", caller.Participant)
                .With("@purpose", purpose).With("@terms", terms.ToByteArray()).With("@state", (int)AccessRequestState.Pending)
                .With("@now", now).With("@reason", reason)
                .ExecuteNonQuery();
            context.Record(Entry(caller.Participant, AuditActions.AccessRequest, name, dataset, caller.Participant, AuditOutcome.Success,
                TermsDetails(terms, ("purpose", purpose))));

            Grant? grant = null;
            if (automatic)
            {
                grant = Approve(context, FindRequest(connection, transaction, id)!, terms, dataset.Provider, automatic: true);
            }

            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(connection, transaction, caller.Participant, "RequestAccess", requestId, fingerprint, name, now);
            }

            return (FindRequest(connection, transaction, id)!, grant);
        }, cancellationToken);

    /// <summary>Approves a PENDING request with <paramref name="terms"/> (the requested ones when null), creating its grant.</summary>
    public Task<(AccessRequest Request, Grant Grant)> ApproveAsync(Caller caller, string requestId, Terms? terms,
        CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var request = Decidable(context, caller, requestId, AuditActions.AccessApprove, "approve");
            // What the approval leaves unset is as requested: --max-transfers alone narrows only that.
            var granted = terms is null ? request.RequestedTerms : TermsPolicy.Complete(terms, request.RequestedTerms);
            if (terms is not null && TermsPolicy.Widening(request.RequestedTerms, granted) is { } widening)
            {
                throw Errors.InvalidArgument(widening);
            }

            var grant = Approve(context, request, granted, caller.Participant, automatic: false);
            return (FindRequest(context.Connection, context.Transaction, requestId)!, grant);
        }, cancellationToken);

    public Task<AccessRequest> RejectAsync(Caller caller, string requestId, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var request = Decidable(context, caller, requestId, AuditActions.AccessReject, "reject");
            return Close(context, request, AccessRequestState.Rejected, reason, caller.Participant, AuditActions.AccessReject);
        }, cancellationToken);

    public Task<AccessRequest> WithdrawAsync(Caller caller, string requestId, CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var request = Visible(context, caller, requestId);
            if (!AccessPolicy.CanWithdraw(caller, request))
            {
                throw Denial(caller, AuditActions.AccessWithdraw, request.Name, request, Errors.PermissionDenied(
                    $"Only {request.Consumer}, who made '{request.Name}', may withdraw it, with a token that carries the 'consumer' role."));
            }

            RequirePending(request, "withdrawn");
            return Close(context, request, AccessRequestState.Withdrawn, "", caller.Participant, AuditActions.AccessWithdraw);
        }, cancellationToken);

    /// <summary>Revokes a grant for good.</summary>
    public Task<Grant> RevokeAsync(Caller caller, string grantId, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync(context =>
        {
            var grant = FindGrant(context.Connection, context.Transaction, grantId, context.Now);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Errors.NotFound(AccessNames.Grant(grantId), exists: grant is not null);
            }

            var dataset = new Dataset { Name = grant.Dataset, Provider = grant.Provider };
            if (!AccessPolicy.CanRevoke(caller, grant))
            {
                throw Denial(caller, AuditActions.GrantRevoke, grant.Name, dataset, grant.Consumer, Errors.PermissionDenied(
                    $"Only the provider of '{grant.Dataset}' or an operator may revoke '{grant.Name}'."));
            }

            if (grant.State == GrantState.Revoked)
            {
                throw Errors.FailedPrecondition($"'{grant.Name}' is already revoked; revocation is final.");
            }

            context.Command("UPDATE grants SET revoke_time = @now, revoke_reason = @reason WHERE id = @id")
                .With("@now", Timestamps.ToMicros(context.Now)).With("@reason", reason).With("@id", grantId)
                .ExecuteNonQuery();
            context.Record(Entry(caller.Participant, AuditActions.GrantRevoke, grant.Name, dataset, grant.Consumer, AuditOutcome.Success,
                reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason }));
            context.Announce(GrantSignals.Channel, grant.Name);
            return FindGrant(context.Connection, context.Transaction, grantId, context.Now)!;
        }, cancellationToken);

    public Task<AccessRequest?> GetRequestAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindRequest(connection, null, id), cancellationToken);

    public Task<Grant?> GetGrantAsync(string id, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync(connection => FindGrant(connection, null, id, now), cancellationToken);

    /// <summary>One page of the requests <paramref name="caller"/> may see, in creation order after position <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<AccessRequest> Page, long? Next)> ListRequestsAsync(AccessQuery query, Caller caller, long after, int pageSize,
        CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<AccessRequest>, long?)>(connection =>
        {
            using var command = connection.Command($"""
                SELECT r.seq, {RequestColumns} FROM access_requests r
                WHERE r.seq > @after
                  AND (@all = 1 OR r.consumer = @me OR r.provider = @me)
                  AND (CAST(@dataset AS TEXT) IS NULL OR r.dataset_id = @dataset)
                  AND (CAST(@consumer AS TEXT) IS NULL OR r.consumer = @consumer)
                  AND (@state = 0 OR r.state = @state)
                ORDER BY r.seq LIMIT @limit
                """);
            Bind(command, query, caller, after, pageSize);
            using var reader = command.ExecuteReader();
            var rows = new List<(long Seq, AccessRequest Request)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), ReadRequest(reader, 1)));
            }

            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    /// <summary>One page of the grants <paramref name="caller"/> may see, in creation order after position <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Grant> Page, long? Next)> ListGrantsAsync(AccessQuery query, Caller caller, long after, int pageSize,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Grant>, long?)>(connection =>
        {
            using var command = connection.Command($"""
                SELECT g.seq, {GrantColumns} FROM grants g
                WHERE g.seq > @after
                  AND (@all = 1 OR g.consumer = @me OR g.provider = @me)
                  AND (CAST(@dataset AS TEXT) IS NULL OR g.dataset_id = @dataset)
                  AND (CAST(@consumer AS TEXT) IS NULL OR g.consumer = @consumer)
                  AND (@state = 0 OR ({GrantStateSql}) = @state)
                ORDER BY g.seq LIMIT @limit
                """).With("@now", Timestamps.ToMicros(now));
            Bind(command, query, caller, after, pageSize);
            using var reader = command.ExecuteReader();
            var rows = new List<(long Seq, Grant Grant)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), ReadGrant(reader, 1, now)));
            }

            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    private static Grant Approve(WriteUnit context, AccessRequest request, Terms terms, string actor, bool automatic)
    {
        var datasetId = DatasetNames.ParseId(request.Dataset);
        var id = AccessNames.NewId();
        var now = Timestamps.ToMicros(context.Now);
        context.Command("""
            INSERT INTO grants (id, dataset_id, consumer, provider, access_request_id, terms, expire_time, max_transfers, create_time, automatic)
            VALUES (@id, @dataset, @consumer, @provider, @request, @terms, @expire, @max, @now, @automatic)
            """)
            .With("@id", id).With("@dataset", datasetId).With("@consumer", request.Consumer).With("@provider", request.Provider)
            .With("@request", request.Name["accessRequests/".Length..]).With("@terms", terms.ToByteArray())
            .With("@expire", terms.ExpireTime is null ? null : Timestamps.ToMicros(terms.ExpireTime))
            .With("@max", terms.MaxTransfers).With("@now", now).With("@automatic", automatic ? 1 : 0)
            .ExecuteNonQuery();
        context.Command("UPDATE access_requests SET state = @state, grant_id = @grant, decide_time = @now, decision_reason = '' WHERE id = @id")
            .With("@state", (int)AccessRequestState.Approved).With("@grant", id).With("@now", now)
            .With("@id", request.Name["accessRequests/".Length..])
            .ExecuteNonQuery();

        var details = TermsDetails(terms, ("grant", AccessNames.Grant(id)));
        if (automatic)
        {
            details["automatic"] = "true";
        }

        context.Record(Entry(actor, AuditActions.AccessApprove, request.Name, DatasetOf(request), request.Consumer, AuditOutcome.Success, details));
        return FindGrant(context.Connection, context.Transaction, id, context.Now)!;
    }

    private static AccessRequest Close(WriteUnit context, AccessRequest request, AccessRequestState state, string reason, string actor,
        string action)
    {
        var id = request.Name["accessRequests/".Length..];
        context.Command("UPDATE access_requests SET state = @state, decision_reason = @reason, decide_time = @now WHERE id = @id")
            .With("@state", (int)state).With("@reason", reason).With("@now", Timestamps.ToMicros(context.Now)).With("@id", id)
            .ExecuteNonQuery();
        context.Record(Entry(actor, action, request.Name, DatasetOf(request), request.Consumer, AuditOutcome.Success,
            reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason }));
        return FindRequest(context.Connection, context.Transaction, id)!;
    }

    private static AccessRequest Visible(WriteUnit context, Caller caller, string requestId)
    {
        var request = FindRequest(context.Connection, context.Transaction, requestId);
        return request is not null && AccessPolicy.CanSee(caller, request)
            ? request
            : throw Errors.NotFound(AccessNames.Request(requestId), exists: request is not null);
    }

    private static AccessRequest Decidable(WriteUnit context, Caller caller, string requestId, string action, string verb)
    {
        var request = Visible(context, caller, requestId);
        if (!AccessPolicy.CanDecide(caller, request))
        {
            throw Denial(caller, action, request.Name, request, Errors.PermissionDenied(
                $"Only the provider of '{request.Dataset}' may {verb} '{request.Name}'."));
        }

        RequirePending(request, verb == "approve" ? "approved" : "rejected");
        return request;
    }

    private static void RequirePending(AccessRequest request, string outcome)
    {
        if (request.State != AccessRequestState.Pending)
        {
            throw Errors.FailedPrecondition(
                $"'{request.Name}' is {request.State.ToString().ToLowerInvariant()}; only a pending request can be {outcome}.");
        }
    }

    private static AuditedDenial Denial(Caller caller, string action, string resource, AccessRequest request, Grpc.Core.RpcException denied) =>
        Denial(caller, action, resource, DatasetOf(request), request.Consumer, denied);

    private static AuditedDenial Denial(Caller caller, string action, string resource, Dataset dataset, string subject,
        Grpc.Core.RpcException denied) =>
        new(Entry(caller.Participant, action, resource, dataset, subject, AuditOutcome.Denied,
            new Dictionary<string, string> { ["reason"] = denied.Status.Detail }), denied);

    private static AuditEntry Entry(string actor, string action, string resource, Dataset dataset, string subject, AuditOutcome outcome,
        IReadOnlyDictionary<string, string>? details) =>
        new(actor, action, resource, outcome, Dataset: dataset.Name, Subject: subject, DatasetProvider: dataset.Provider, Details: details);

    private static Dataset DatasetOf(AccessRequest request) => new() { Name = request.Dataset, Provider = request.Provider };

    private static Dictionary<string, string> TermsDetails(Terms terms, params (string Key, string Value)[] extra)
    {
        var details = new Dictionary<string, string>
        {
            ["purposes"] = string.Join(",", terms.Purposes),
            ["max_transfers"] = terms.MaxTransfers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (terms.ExpireTime is not null)
        {
            details["expire_time"] = terms.ExpireTime.ToDateTimeOffset().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in extra)
        {
            details[key] = value;
        }

        return details;
    }

    private static void Bind(DbCommand command, AccessQuery query, Caller caller, long after, int pageSize) =>
        command.With("@after", after).With("@all", caller.ReadsEverything ? 1 : 0).With("@me", caller.Participant)
            .With("@dataset", query.DatasetId).With("@consumer", query.Consumer).With("@state", query.State).With("@limit", pageSize + 1);

    private static AccessRequest? FindRequest(DbConnection connection, DbTransaction? transaction, string id)
    {
        using var command = connection.Command($"SELECT {RequestColumns} FROM access_requests r WHERE r.id = @id", transaction).With("@id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadRequest(reader, 0) : null;
    }

    internal static Grant? FindGrant(DbConnection connection, DbTransaction? transaction, string id, DateTimeOffset now)
    {
        using var command = connection.Command($"SELECT {GrantColumns} FROM grants g WHERE g.id = @id", transaction).With("@id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadGrant(reader, 0, now) : null;
    }

    private static AccessRequest ReadRequest(DbDataReader reader, int o) => new()
    {
        Name = AccessNames.Request(reader.GetString(o)),
        Dataset = DatasetNames.Format(reader.GetString(o + 1)),
        Provider = reader.GetString(o + 2),
        Consumer = reader.GetString(o + 3),
        Purpose = reader.GetString(o + 4),
        RequestedTerms = Terms.Parser.ParseFrom((byte[])reader[o + 5]),
        State = (AccessRequestState)reader.GetInt32(o + 6),
        Grant = reader.IsDBNull(o + 7) ? "" : AccessNames.Grant(reader.GetString(o + 7)),
        DecisionReason = reader.GetString(o + 8),
        CreateTime = Timestamps.FromMicros(reader.GetInt64(o + 9)),
        DecideTime = reader.IsDBNull(o + 10) ? null : Timestamps.FromMicros(reader.GetInt64(o + 10)),
    };

    private static Grant ReadGrant(DbDataReader reader, int o, DateTimeOffset now)
    {
        var grant = new Grant
        {
            Name = AccessNames.Grant(reader.GetString(o)),
            Dataset = DatasetNames.Format(reader.GetString(o + 1)),
            Consumer = reader.GetString(o + 2),
            Provider = reader.GetString(o + 3),
            AccessRequest = AccessNames.Request(reader.GetString(o + 4)),
            Terms = Terms.Parser.ParseFrom((byte[])reader[o + 5]),
            TransfersUsed = reader.GetInt64(o + 6),
            RevokeTime = reader.IsDBNull(o + 7) ? null : Timestamps.FromMicros(reader.GetInt64(o + 7)),
            RevokeReason = reader.GetString(o + 8),
            CreateTime = Timestamps.FromMicros(reader.GetInt64(o + 9)),
        };
        grant.State = TermsPolicy.StateOf(grant, now);
        return grant;
    }
}
