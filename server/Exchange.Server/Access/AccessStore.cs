using System.Data.Common;
using System.Globalization;
using Exchange.Server.Access.Model;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Access;

/// <summary>
/// Access requests and grants in the embedded database. Every decision checks the caller's
/// rights (<see cref="AccessPolicy"/>) and the object's state inside the writer's transaction and
/// records itself there, a denial included, so two racing decisions cannot both succeed and none
/// goes unrecorded.
/// </summary>
internal sealed class AccessStore(Database database, ICatalog catalog, IRevisions revisions, IRightsGate rights, IDerivations derivations, IOffers offers,
    IMeter meter, Participants.Suspensions suspensions) : IGrants
{
    private const string RequestColumns =
        "r.id, r.dataset_id, r.provider, r.consumer, r.purpose, r.requested_terms, r.state, r.grant_id, r.decision_reason, r.create_time, r.decide_time";

    private const string GrantColumns =
        "g.id, g.dataset_id, g.consumer, g.provider, g.access_request_id, g.terms, g.transfers_used, g.revoke_time, g.revoke_reason, g.create_time, " +
        "g.renewal_cancel_time";

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
    public Task<Decision<(AccessRequest Request, Grant? Grant)>> RequestAsync(Caller caller, DatasetId datasetId, string purpose, Terms terms,
        string? offer, string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(AccessRequest, Grant?)>>(unit =>
        {
            if (requestId.Length > 0 &&
                IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, "RequestAccess", requestId, fingerprint) is { } existing)
            {
                var earlier = FindRequest(unit, AccessRequestId.FromName(existing))!;
                return (earlier, earlier.Grant is { } earlierGrant ? GrantOf(unit, earlierGrant) : null);
            }

            var datasetName = datasetId.Name;
            var dataset = catalog.FindVisible(unit, datasetId, caller) ?? throw Refusal.NotVisible(datasetName);
            var autoTerms = dataset.AutoApprovalTerms;
            if (!AccessPolicy.CanRequest(caller))
            {
                return unit.Deny(Entry(caller.Participant, AuditActions.AccessRequest, datasetName, datasetId, dataset.Provider,
                    caller.Participant, Outcome.Denied, null), "Only participants with the 'consumer' role may request access.");
            }

            if (dataset.Provider == caller.Participant)
            {
                throw Refusal.Precondition($"You provide '{datasetName}'; there is no access to request.");
            }

            if (dataset.State != DatasetState.Listed)
            {
                throw Refusal.Precondition($"'{datasetName}' is not listed; access can be requested only to a listed dataset.");
            }

            // The offer accepted, as it stands now: the copy the request, and the grant, keep.
            terms = terms with { Offer = offers.Accept(unit, datasetId, offer, caller) };
            if (unit.Command("SELECT id FROM access_requests WHERE dataset_id = @d AND consumer = @c AND state = @pending")
                    .With("@d", datasetId.Value).With("@c", caller.Participant).With("@pending", (int)AccessRequestState.Pending)
                    .ExecuteScalar() is string pending)
            {
                throw Refusal.Conflict(
                    $"You already have a pending request for '{datasetName}': {new AccessRequestId(pending).Name}. Withdraw it or wait for the decision.");
            }

            // Automatic approval is a quota per consumer and dataset, not per request: while an automatic
            // grant is active, asking again under the automatic terms gets no second one; once it is used
            // up, expired or revoked, the provider decides (a revocation must not be undone by asking again).
            // What the consumer left unset it asks for as the automatic terms allow; what applies is recorded, never a 0 it did not mean.
            var asked = terms.View;
            if (asked is not null)
            {
                // Before it is compared with the automatic view: a comparison assumes views that fit the table.
                Tables.ViewValidation.ValidateFor(asked, revisions.LatestColumns(unit, datasetId), datasetName, "requested_terms.view");
            }

            var askedRule = terms.Analysis;
            if (askedRule is not null)
            {
                Tables.AnalysisRuleValidation.ValidateFor(askedRule, revisions.LatestColumns(unit, datasetId), datasetName, "requested_terms.analysis");
            }

            string? pendingReason = null;
            if (autoTerms is not null)
            {
                var applied = TermsPolicy.Complete(terms, autoTerms);
                pendingReason = TermsPolicy.BeyondAutomatic(autoTerms, applied)
                    ?? (applied.View is not null && applied.Analysis is not null ? "the automatic terms' view does not go with an analysis rule" : null);
                if (pendingReason is null && applied.View is { } view && !ReferenceEquals(view, asked))
                {
                    // The automatic terms' view, taken on: a newer revision may have left it behind. That is
                    // the provider's to settle, not the consumer's fault: the request waits for the provider.
                    try
                    {
                        Tables.ViewValidation.ValidateFor(view, revisions.LatestColumns(unit, datasetId), datasetName, "auto_approval_terms.view");
                    }
                    catch (Refusal stale) when (stale.Kind is RefusalKind.InvalidArgument or RefusalKind.FailedPrecondition)
                    {
                        pendingReason = $"the automatic terms' view does not fit the latest revision ({stale.Message})";
                    }
                }

                if (pendingReason is null && applied.Analysis is { } rule && !ReferenceEquals(rule, askedRule))
                {
                    // The automatic analysis rule, taken on: like its view, one a newer revision left behind is the provider's to settle.
                    try
                    {
                        Tables.AnalysisRuleValidation.ValidateFor(rule, revisions.LatestColumns(unit, datasetId), datasetName, "auto_approval_terms.analysis");
                    }
                    catch (Refusal stale) when (stale.Kind is RefusalKind.InvalidArgument or RefusalKind.FailedPrecondition)
                    {
                        pendingReason = $"the automatic terms' analysis rule does not fit the latest revision ({stale.Message})";
                    }
                }

                if (pendingReason is null)
                {
                    terms = applied;
                }
            }

            if (autoTerms is not null && pendingReason is null)
            {
                // The provider's right decides automatic approvals as it decides the provider's own.
                pendingReason = rights.ApprovalProblem(unit, datasetId, dataset.Provider, terms.Purposes, terms.ExpireTime);
            }

            if (autoTerms is not null && pendingReason is null && suspensions.ReasonFor(dataset.Provider) is not null)
            {
                // An automatic approval is logged as the provider's act; nothing is done in a suspended participant's name.
                pendingReason = $"{dataset.Provider} is suspended";
            }

            if (terms.Offer is { } accepted && OfferMisfit(accepted, terms) is { } misfit)
            {
                throw Refusal.Invalid(misfit);
            }

            if (autoTerms is not null && pendingReason is null && terms.Offer is null && offers.Priced(unit, datasetId))
            {
                // Priced, but under no offer this consumer could name: free access is the provider's call, not the automatic terms'.
                pendingReason = "the dataset is priced and the request accepts no offer";
            }

            var automatic = autoTerms is not null && pendingReason is null;
            if (automatic && unit.Command("""
                    SELECT id FROM grants WHERE dataset_id = @d AND consumer = @c AND automatic = 1 ORDER BY seq DESC LIMIT 1
                    """).With("@d", datasetId.Value).With("@c", caller.Participant).ExecuteScalar() is string earlierId)
            {
                var earlier = GrantOf(unit, new GrantId(earlierId))!;
                if (earlier.State == GrantState.Active)
                {
                    throw Refusal.Precondition(
                        $"You already hold {earlier.Id.Name} on '{datasetName}' under its automatic terms; download under it, " +
                        "or ask for terms beyond them for the provider to decide.");
                }

                automatic = false;
                pendingReason = $"automatic approval was already used by {earlier.Id.Name}, now {earlier.State.ToString().ToLowerInvariant()}";
            }

            var id = AccessRequestId.New();
            var now = Timestamps.ToMicros(unit.Now);
            // A request the automatic terms did not cover says why, so the consumer need not guess.
            var reason = automatic || pendingReason is null ? "" : $"Not approved automatically: {pendingReason}; the provider decides.";
            unit.Command("""
                INSERT INTO access_requests (id, dataset_id, provider, consumer, purpose, requested_terms, state, create_time, decision_reason)
                VALUES (@id, @dataset, @provider, @consumer, @purpose, @terms, @state, @now, @reason)
                """)
                .With("@id", id.Value).With("@dataset", datasetId.Value).With("@provider", dataset.Provider).With("@consumer", caller.Participant)
                .With("@purpose", purpose).With("@terms", TermsMapping.Encode(terms)).With("@state", (int)AccessRequestState.Pending)
                .With("@now", now).With("@reason", reason)
                .ExecuteNonQuery();
            unit.Record(Entry(caller.Participant, AuditActions.AccessRequest, id.Name, datasetId, dataset.Provider, caller.Participant,
                Outcome.Success, TermsDetails(terms, ("purpose", purpose))));

            Grant? grant = null;
            if (automatic)
            {
                grant = Approve(unit, FindRequest(unit, id)!, terms, dataset.Provider, automatic: true);
            }

            if (requestId.Length > 0)
            {
                IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, "RequestAccess", requestId, fingerprint, id.Name, now);
            }

            return (FindRequest(unit, id)!, grant);
        }, cancellationToken);

    /// <summary>Approves a PENDING request with <paramref name="terms"/> (the requested ones when null), creating its grant.</summary>
    public Task<Decision<(AccessRequest Request, Grant Grant)>> ApproveAsync(Caller caller, AccessRequestId requestId, Terms? terms,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(AccessRequest, Grant)>>(unit =>
        {
            var request = Visible(unit, caller, requestId);
            if (!AccessPolicy.CanDecide(caller, request))
            {
                return DenyDecision(unit, caller, request, AuditActions.AccessApprove, "approve");
            }

            RequirePending(request, "approved");
            // What the approval leaves unset is as requested: --max-transfers alone narrows only that.
            var granted = terms is null ? request.RequestedTerms : TermsPolicy.Complete(terms, request.RequestedTerms);
            if (granted.View is not null && granted.Analysis is not null)
            {
                throw Refusal.Invalid(Catalog.TermsValidation.ViewWithRule("terms"));
            }

            if (granted.View is { } view)
            {
                // Against the table as it is now: a newer revision may lack a column the request named.
                Tables.ViewValidation.ValidateFor(view, revisions.LatestColumns(unit, request.Dataset), request.Dataset.Name, "terms.view");
            }

            if (granted.Analysis is { } rule)
            {
                Tables.AnalysisRuleValidation.ValidateFor(rule, revisions.LatestColumns(unit, request.Dataset), request.Dataset.Name, "terms.analysis");
            }

            if (terms is not null && TermsPolicy.Widening(request.RequestedTerms, granted) is { } widening)
            {
                throw Refusal.Invalid(widening);
            }

            if (rights.ApprovalProblem(unit, request.Dataset, request.Provider, granted.Purposes, granted.ExpireTime) is { } uncovered)
            {
                throw Refusal.Precondition($"Cannot approve '{requestId.Name}': {uncovered}.");
            }

            var grant = Approve(unit, request, granted, caller.Participant, automatic: false);
            return (FindRequest(unit, requestId)!, grant);
        }, cancellationToken);

    public Task<Decision<AccessRequest>> RejectAsync(Caller caller, AccessRequestId requestId, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<AccessRequest>>(unit =>
        {
            var request = Visible(unit, caller, requestId);
            if (!AccessPolicy.CanDecide(caller, request))
            {
                return DenyDecision(unit, caller, request, AuditActions.AccessReject, "reject");
            }

            RequirePending(request, "rejected");
            return Close(unit, request, AccessRequestState.Rejected, reason, caller.Participant, AuditActions.AccessReject);
        }, cancellationToken);

    public Task<Decision<AccessRequest>> WithdrawAsync(Caller caller, AccessRequestId requestId, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<AccessRequest>>(unit =>
        {
            var request = Visible(unit, caller, requestId);
            if (!AccessPolicy.CanWithdraw(caller, request))
            {
                return unit.Deny(Entry(caller.Participant, AuditActions.AccessWithdraw, request.Id.Name, request, Outcome.Denied, null),
                    $"Only {request.Consumer}, who made '{request.Id.Name}', may withdraw it, with a token that carries the 'consumer' role.");
            }

            RequirePending(request, "withdrawn");
            return Close(unit, request, AccessRequestState.Withdrawn, "", caller.Participant, AuditActions.AccessWithdraw);
        }, cancellationToken);

    /// <summary>Revokes a grant for good.</summary>
    public Task<Decision<Grant>> RevokeAsync(Caller caller, GrantId grantId, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Grant>>(unit =>
        {
            var grant = GrantOf(unit, grantId);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Refusal.NotFound(grantId.Name, exists: grant is not null);
            }

            if (!AccessPolicy.CanRevoke(caller, grant))
            {
                return unit.Deny(Entry(caller.Participant, AuditActions.GrantRevoke, grantId.Name, grant.Dataset, grant.Provider, grant.Consumer,
                    Outcome.Denied, null), $"Only the provider of '{grant.Dataset.Name}' or an operator may revoke '{grantId.Name}'.");
            }

            if (grant.State == GrantState.Revoked)
            {
                throw Refusal.Precondition($"'{grantId.Name}' is already revoked; revocation is final.");
            }

            unit.Command("UPDATE grants SET revoke_time = @now, revoke_reason = @reason WHERE id = @id")
                .With("@now", Timestamps.ToMicros(unit.Now)).With("@reason", reason).With("@id", grantId.Value)
                .ExecuteNonQuery();
            unit.Record(Entry(caller.Participant, AuditActions.GrantRevoke, grantId.Name, grant.Dataset, grant.Provider, grant.Consumer,
                Outcome.Success, reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason }));
            unit.Announce(Revocations.ChannelName, grantId.Name);
            derivations.GrantRevoked(unit, caller.Participant, grantId.Name, reason);
            return GrantOf(unit, grantId)!;
        }, cancellationToken);

    /// <summary>
    /// Stops the auto-renewing subscription of its consumer's active grant: the period under way is the last one charged, and
    /// the grant expires when it ends. Returns the grant and the index of its <c>grant.cancel_renewal</c> event. A second
    /// cancellation changes nothing and returns the same.
    /// </summary>
    public Task<Decision<(Grant Grant, long EventIndex)>> CancelRenewalAsync(Caller caller, GrantId grantId, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(Grant, long)>>(unit =>
        {
            var grant = GrantOf(unit, grantId);
            if (grant is null || !AccessPolicy.CanSee(caller, grant))
            {
                throw Refusal.NotFound(grantId.Name, exists: grant is not null);
            }

            if (!AccessPolicy.CanCancelRenewal(caller, grant))
            {
                return unit.Deny(Entry(caller.Participant, AuditActions.GrantCancelRenewal, grantId.Name, grant.Dataset, grant.Provider, grant.Consumer,
                    Outcome.Denied, null), $"Only the consumer of '{grantId.Name}', holding the consumer role, may cancel its renewal; its provider or an operator may revoke it.");
            }

            if (grant.RenewalCancelTime is not null)
            {
                return (grant, Convert.ToInt64(unit.Command("SELECT renewal_cancel_index FROM grants WHERE id = @id").With("@id", grantId.Value)
                    .ExecuteScalar(), CultureInfo.InvariantCulture));
            }

            if (grant.Terms.Offer is not { Kind: V1.OfferKind.Subscription, AutoRenew: true })
            {
                throw Refusal.Precondition($"'{grantId.Name}' does not renew: it accepted no auto-renewing subscription offer, so there is no renewal to cancel.");
            }

            if (grant.State != GrantState.Active)
            {
                throw Refusal.Precondition($"'{grantId.Name}' is {grant.State.ToString().ToLowerInvariant()}; its subscription renews no more.");
            }

            if (meter.EndRenewal(unit, grant) is not { } end)
            {
                throw Refusal.Precondition(grant.Terms.ExpireTime is { } ends && ends <= grant.PeriodStart(grant.NextPeriod(unit.Now))
                    ? $"'{grantId.Name}' renews no more: its terms end it at {ends:O}, before another period starts."
                    : $"'{grantId.Name}' renews no more: no further period of its subscription is due.");
            }

            var index = unit.Record(Entry(caller.Participant, AuditActions.GrantCancelRenewal, grantId.Name, grant.Dataset, grant.Provider, grant.Consumer,
                Outcome.Success, new Dictionary<string, string> { ["end_time"] = end.ToString("O", CultureInfo.InvariantCulture) }));
            // The grant now ends as a subscription that does not renew does: its terms and expire_time say when.
            unit.Command("UPDATE grants SET terms = @terms, expire_time = @end, renewal_cancel_time = @now, renewal_cancel_index = @index WHERE id = @id")
                .With("@terms", TermsMapping.Encode(grant.Terms with { ExpireTime = end })).With("@end", Timestamps.ToMicros(end))
                .With("@now", Timestamps.ToMicros(unit.Now)).With("@index", index).With("@id", grantId.Value)
                .ExecuteNonQuery();
            return (GrantOf(unit, grantId)!, index);
        }, cancellationToken);

    public Task<AccessRequest?> GetRequestAsync(AccessRequestId id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = RequestCommand(connection, null, id);
            return (await command.ListAsync(reader => ReadRequest(reader, 0), ct)).SingleOrDefault();
        }, cancellationToken);

    public Task<Grant?> GetGrantAsync(GrantId id, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = GrantCommand(connection, null, id);
            return (await command.ListAsync(reader => ReadGrant(reader, 0, now), ct)).SingleOrDefault();
        }, cancellationToken);

    /// <summary>One page of the requests <paramref name="caller"/> may see, in creation order after position <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<AccessRequest> Page, long? Next)> ListRequestsAsync(AccessQuery query, Caller caller, long after, int pageSize,
        CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<AccessRequest>, long?)>(async (connection, ct) =>
        {
            var command = connection.Prepared($"""
                SELECT r.seq, {RequestColumns} FROM access_requests r
                WHERE r.seq > @after
                  AND (@all = 1 OR r.consumer = @me OR r.provider = @me)
                  AND (CAST(@dataset AS TEXT) IS NULL OR r.dataset_id = @dataset)
                  AND (CAST(@consumer AS TEXT) IS NULL OR r.consumer = @consumer)
                  AND (@state = 0 OR r.state = @state)
                ORDER BY r.seq LIMIT @limit
                """);
            Bind(command, query, caller, after, pageSize);
            var rows = await command.ListAsync(reader => (reader.GetInt64(0), ReadRequest(reader, 1)), ct);
            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    /// <summary>One page of the grants <paramref name="caller"/> may see, in creation order after position <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Grant> Page, long? Next)> ListGrantsAsync(AccessQuery query, Caller caller, long after, int pageSize,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Grant>, long?)>(async (connection, ct) =>
        {
            var command = connection.Prepared($"""
                SELECT g.seq, {GrantColumns} FROM grants g
                WHERE g.seq > @after
                  AND (@all = 1 OR g.consumer = @me OR g.provider = @me)
                  AND (CAST(@dataset AS TEXT) IS NULL OR g.dataset_id = @dataset)
                  AND (CAST(@consumer AS TEXT) IS NULL OR g.consumer = @consumer)
                  AND (@state = 0 OR ({GrantStateSql}) = @state)
                ORDER BY g.seq LIMIT @limit
                """).With("@now", Timestamps.ToMicros(now));
            Bind(command, query, caller, after, pageSize);
            var rows = await command.ListAsync(reader => (reader.GetInt64(0), ReadGrant(reader, 1, now)), ct);
            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    /// <summary>The grant, its state as of the unit's time, or null.</summary>
    public Grant? Find(WriteUnit unit, GrantId id) => GrantOf(unit, id);

    private static Grant? GrantOf(WriteUnit unit, GrantId id)
    {
        using var command = GrantCommand(unit.Connection, unit.Transaction, id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadGrant(reader, 0, unit.Now) : null;
    }

    /// <summary>Counts one more transfer under the grant (towards its max_transfers).</summary>
    public void CountTransfer(WriteUnit unit, GrantId id) =>
        unit.Command("""
            UPDATE grants SET transfers_used = transfers_used + 1,
                exhaust_time = CASE WHEN max_transfers > 0 AND transfers_used + 1 >= max_transfers THEN @now ELSE exhaust_time END
            WHERE id = @id
            """).With("@now", Timestamps.ToMicros(unit.Now)).With("@id", id.Value).ExecuteNonQuery();

    public DateTimeOffset? ExhaustTime(WriteUnit unit, Grant grant) => grant.State != GrantState.Exhausted ? null
        : unit.Command("SELECT exhaust_time FROM grants WHERE id = @id").With("@id", grant.Id.Value).ExecuteScalar() is long micros
            ? Timestamps.ToTime(micros) : unit.Now;


    private Grant Approve(WriteUnit unit, AccessRequest request, Terms terms, string actor, bool automatic)
    {
        if (terms.Offer is { Kind: V1.OfferKind.Subscription, AutoRenew: false } once)
        {
            // A subscription that does not renew is a grant for its one period: it ends when the period does, if not sooner.
            var periodEnd = unit.Now.AddMonths(once.PeriodMonths);
            terms = terms with { ExpireTime = terms.ExpireTime is { } asked && asked < periodEnd ? asked : periodEnd };
        }

        var id = GrantId.New();
        var now = Timestamps.ToMicros(unit.Now);
        unit.Command("""
            INSERT INTO grants (id, dataset_id, consumer, provider, access_request_id, terms, expire_time, max_transfers, create_time, automatic)
            VALUES (@id, @dataset, @consumer, @provider, @request, @terms, @expire, @max, @now, @automatic)
            """)
            .With("@id", id.Value).With("@dataset", request.Dataset.Value).With("@consumer", request.Consumer).With("@provider", request.Provider)
            .With("@request", request.Id.Value).With("@terms", TermsMapping.Encode(terms))
            .With("@expire", terms.ExpireTime is { } expiry ? Timestamps.ToMicros(expiry) : null)
            .With("@max", terms.MaxTransfers).With("@now", now).With("@automatic", automatic ? 1 : 0)
            .ExecuteNonQuery();
        unit.Command("UPDATE access_requests SET state = @state, grant_id = @grant, decide_time = @now, decision_reason = '' WHERE id = @id")
            .With("@state", (int)AccessRequestState.Approved).With("@grant", id.Value).With("@now", now)
            .With("@id", request.Id.Value)
            .ExecuteNonQuery();

        var details = TermsDetails(terms, ("grant", id.Name));
        if (automatic)
        {
            details["automatic"] = "true";
        }

        var index = unit.Record(Entry(actor, AuditActions.AccessApprove, request.Id.Name, request, Outcome.Success, details));
        var grant = GrantOf(unit, id)!;
        meter.Approved(unit, grant, index);
        return grant;
    }

    private static AccessRequest Close(WriteUnit unit, AccessRequest request, AccessRequestState state, string reason, string actor,
        string action)
    {
        unit.Command("UPDATE access_requests SET state = @state, decision_reason = @reason, decide_time = @now WHERE id = @id")
            .With("@state", (int)state).With("@reason", reason).With("@now", Timestamps.ToMicros(unit.Now)).With("@id", request.Id.Value)
            .ExecuteNonQuery();
        unit.Record(Entry(actor, action, request.Id.Name, request, Outcome.Success,
            reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason }));
        return FindRequest(unit, request.Id)!;
    }

    /// <summary>The request, or NOT_FOUND when it does not exist or <paramref name="caller"/> may not see it.</summary>
    private static AccessRequest Visible(WriteUnit unit, Caller caller, AccessRequestId requestId)
    {
        var request = FindRequest(unit, requestId);
        return request is not null && AccessPolicy.CanSee(caller, request)
            ? request
            : throw Refusal.NotFound(requestId.Name, exists: request is not null);
    }

    /// <summary>Records and returns the denial of a caller who may not approve or reject <paramref name="request"/>.</summary>
    private static Denial DenyDecision(WriteUnit unit, Caller caller, AccessRequest request, string action, string verb) =>
        unit.Deny(Entry(caller.Participant, action, request.Id.Name, request, Outcome.Denied, null),
            $"Only the provider of '{request.Dataset.Name}' may {verb} '{request.Id.Name}'.");

    private static void RequirePending(AccessRequest request, string outcome)
    {
        if (request.State != AccessRequestState.Pending)
        {
            throw Refusal.Precondition(
                $"'{request.Id.Name}' is {request.State.ToString().ToLowerInvariant()}; only a pending request can be {outcome}.");
        }
    }

    private static AuditEntry Entry(string actor, string action, string resource, AccessRequest request, Outcome outcome,
        IReadOnlyDictionary<string, string>? details) =>
        Entry(actor, action, resource, request.Dataset, request.Provider, request.Consumer, outcome, details);

    private static AuditEntry Entry(string actor, string action, string resource, DatasetId dataset, string provider, string subject,
        Outcome outcome, IReadOnlyDictionary<string, string>? details) =>
        new(actor, action, resource, outcome, Dataset: dataset.Name, Subject: subject, DatasetProvider: provider, Details: details);

    /// <summary>Why an offer cannot price a grant of these terms: per-query offers price queries, per-transfer and per-GiB ones downloads.</summary>
    private static string? OfferMisfit(V1.Offer offer, Terms terms) => offer.Kind switch
    {
        V1.OfferKind.PerQuery when !terms.IsCompute && terms.Analysis is null =>
            $"offer {offer.Name} prices queries; it goes with a COMPUTE grant (requested_terms.kind and an analysis rule).",
        V1.OfferKind.PerTransfer or V1.OfferKind.PerGib when terms.IsCompute =>
            $"offer {offer.Name} prices downloads; a COMPUTE grant downloads nothing. Accept a per-query, one-off or subscription offer.",
        _ => null,
    };

    private static Dictionary<string, string> TermsDetails(Terms terms, params (string Key, string Value)[] extra)
    {
        var details = new Dictionary<string, string>
        {
            ["purposes"] = string.Join(",", terms.Purposes),
            ["max_transfers"] = terms.MaxTransfers.ToString(CultureInfo.InvariantCulture),
        };
        if (terms.ExpireTime is { } expiry)
        {
            details["expire_time"] = expiry.ToString("O", CultureInfo.InvariantCulture);
        }

        if (terms.View is { } view)
        {
            details["view_sha256"] = Tables.ViewDigest.Hex(view);
        }

        if (terms.Kind != V1.GrantKind.Unspecified)
        {
            details["kind"] = terms.Kind == V1.GrantKind.Compute ? "compute" : "download";
        }

        if (terms.Analysis is { } analysis)
        {
            // The rule's version, which every query under the grant names; a budget starts from the rule's.
            details["rule_version"] = Tables.AnalysisRules.Version(analysis);
            if (analysis.Privacy is { } privacy)
            {
                details["budget_epsilon_millis"] = privacy.BudgetEpsilonMillis.ToString(CultureInfo.InvariantCulture);
            }
        }

        if (terms.Offer is { } accepted)
        {
            details["offer"] = accepted.Name;
            details["price"] = $"{accepted.Price.AmountMinor} {accepted.Price.Currency}";
            // Binds the copy the grant keeps (and GetGrant shows) to the log: a statement is checked against these terms.
            details["offer_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Google.Protobuf.MessageExtensions.ToByteArray(accepted)));
        }

        if (terms.AllowsDerivation)
        {
            details["derivation"] = terms.DescendantsSurvive ? "allowed, descendants survive revocation" : "allowed";
        }

        foreach (var (key, value) in extra)
        {
            details[key] = value;
        }

        return details;
    }

    private static void Bind(DbCommand command, AccessQuery query, Caller caller, long after, int pageSize) =>
        command.With("@after", after).With("@all", caller.ReadsEverything ? 1 : 0).With("@me", caller.Participant)
            .With("@dataset", query.Dataset?.Value).With("@consumer", query.Consumer).With("@state", query.State).With("@limit", pageSize + 1);

    private static AccessRequest? FindRequest(WriteUnit unit, AccessRequestId id)
    {
        using var command = RequestCommand(unit.Connection, unit.Transaction, id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadRequest(reader, 0) : null;
    }

    private static DbCommand RequestCommand(DbConnection connection, DbTransaction? transaction, AccessRequestId id) =>
        connection.Prepared($"SELECT {RequestColumns} FROM access_requests r WHERE r.id = @id", transaction).With("@id", id.Value);

    private static DbCommand GrantCommand(DbConnection connection, DbTransaction? transaction, GrantId id) =>
        connection.Prepared($"SELECT {GrantColumns} FROM grants g WHERE g.id = @id", transaction).With("@id", id.Value);

    private static AccessRequest ReadRequest(DbDataReader reader, int o) => new(
        new AccessRequestId(reader.GetString(o)),
        new DatasetId(reader.GetString(o + 1)),
        Provider: reader.GetString(o + 2),
        Consumer: reader.GetString(o + 3),
        Purpose: reader.GetString(o + 4),
        RequestedTerms: TermsMapping.Decode((byte[])reader[o + 5]),
        State: (AccessRequestState)reader.GetInt32(o + 6),
        Grant: reader.IsDBNull(o + 7) ? null : new GrantId(reader.GetString(o + 7)),
        DecisionReason: reader.GetString(o + 8),
        CreateTime: Timestamps.ToTime(reader.GetInt64(o + 9)),
        DecideTime: reader.IsDBNull(o + 10) ? null : Timestamps.ToTime(reader.GetInt64(o + 10)));

    private static Grant ReadGrant(DbDataReader reader, int o, DateTimeOffset now)
    {
        var terms = TermsMapping.Decode((byte[])reader[o + 5]);
        var transfersUsed = reader.GetInt64(o + 6);
        DateTimeOffset? revokeTime = reader.IsDBNull(o + 7) ? null : Timestamps.ToTime(reader.GetInt64(o + 7));
        return new Grant(
            new GrantId(reader.GetString(o)),
            new DatasetId(reader.GetString(o + 1)),
            Consumer: reader.GetString(o + 2),
            Provider: reader.GetString(o + 3),
            AccessRequest: new AccessRequestId(reader.GetString(o + 4)),
            Terms: terms,
            TransfersUsed: transfersUsed,
            RevokeTime: revokeTime,
            RevokeReason: reader.GetString(o + 8),
            CreateTime: Timestamps.ToTime(reader.GetInt64(o + 9)),
            State: TermsPolicy.StateOf(revokeTime, terms, transfersUsed, now),
            RenewalCancelTime: reader.IsDBNull(o + 10) ? null : Timestamps.ToTime(reader.GetInt64(o + 10)));
    }
}
