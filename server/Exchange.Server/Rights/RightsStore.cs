using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Rights;

/// <summary>
/// The rights registry in the database. A right's record is a serialized <see cref="Right"/>,
/// rewritten with every change in the same unit of work as the change's audit event, which
/// carries the record's SHA-256: the log attests each version of every right. Each operation
/// checks the caller (<see cref="RightsPolicy"/>) and the right's state inside the writer's
/// transaction, so two racing changes cannot both apply, and records its denials.
/// </summary>
internal sealed class RightsStore(Database database, ICatalog catalog, IDerivations derivations, TimeProvider time, IOptions<Hosting.ExchangeOptions> options)
{
    private const int MaxObjections = 256;

    /// <summary>Objections a right's record keeps over all its reviews, which bounds the record and its events.</summary>
    private const int MaxObjectionsKept = 1024;

    private TimeSpan NoticePeriod => options.Value.Rights.NoticePeriod;

    /// <summary>Registers a PENDING right held by the caller on a dataset it provides, under public notice from now.</summary>
    public Task<Decision<Right>> RegisterAsync(Caller caller, DatasetId datasetId, Right asked, string requestId, byte[] fingerprint,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            if (Remembered(unit, caller, "RegisterRight", requestId, fingerprint) is { } earlier)
            {
                return earlier;
            }

            var dataset = catalog.FindVisible(unit, datasetId, caller) ?? throw Refusal.NotVisible(datasetId.Name);
            var name = RightName.New(datasetId);
            if (!RightsPolicy.CanRegister(caller, dataset.Provider))
            {
                return unit.Deny(Entry(caller, AuditActions.RightRegister, name.Name, datasetId, dataset.Provider, caller.Participant),
                    $"Only the provider of '{datasetId.Name}' may register rights on it; others receive rights by licence or transfer.");
            }

            if (dataset.Classification == Catalog.Model.Classification.Core)
            {
                throw Refusal.Precondition($"'{datasetId.Name}' is classified CORE; core data may not be registered for trading.");
            }

            var start = asked.StartTime is null ? unit.Now : Max(asked.StartTime.ToDateTimeOffset(), unit.Now);
            var end = RightScopes.End(asked.EndTime);
            RefuseOverlap(unit, datasetId, asked.Kind, start, end, caller.Participant, exceptId: null);
            var right = new Right
            {
                Name = name.Name,
                Dataset = datasetId.Name,
                Kind = asked.Kind,
                Holder = caller.Participant,
                Basis = asked.Basis.Clone(),
                Scope = asked.Scope?.Clone() ?? new RightScope(),
                StartTime = Timestamp.FromDateTimeOffset(start),
                EndTime = asked.EndTime?.Clone(),
                State = RightState.Pending,
                Registrant = caller.Participant,
                NoticeEndTime = Timestamp.FromDateTimeOffset(unit.Now + NoticePeriod),
                CreateTime = Timestamp.FromDateTimeOffset(unit.Now),
                Review = 1,
            };
            var saved = Save(unit, caller, AuditActions.RightRegister, null, dataset.Provider, right, caller.Participant,
                new() { ["notice_end_time"] = Format(right.NoticeEndTime), ["basis"] = right.Basis.Kind.ToString() });
            Remember(unit, caller, "RegisterRight", requestId, fingerprint, saved);
            return saved;
        }, cancellationToken);

    /// <summary>The right as it stands now (EXPIRED once past its end), or null.</summary>
    public Task<Right?> GetAsync(RightName name, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command("SELECT seq, record, dataset_provider FROM rights WHERE id = @id AND dataset_id = @d")
                .With("@id", name.Id).With("@d", name.Dataset.Value);
            var rows = await command.ListAsync(ReadRow, ct);
            return rows.Count == 0 ? null : AsOf(rows[0].Record, time.GetUtcNow());
        }, cancellationToken);

    /// <summary>The stored record bytes of a right, exactly as its last event hashed them, and the indexes of its events.</summary>
    public Task<(byte[] Record, List<long> Events)?> CertificateAsync(RightName name, CancellationToken cancellationToken) =>
        database.ReadAsync<(byte[], List<long>)?>(async (connection, ct) =>
        {
            await using var find = connection.Command("SELECT record, licensed_from FROM rights WHERE id = @id AND dataset_id = @d")
                .With("@id", name.Id).With("@d", name.Dataset.Value);
            var rows = await find.ListAsync(r => ((byte[])r[0], r.IsDBNull(1) ? null : r.GetString(1)), ct);
            if (rows.Count == 0)
            {
                return null;
            }

            var events = await EventsAsync(connection, name.Id, long.MaxValue, ownOnly: false, ct);
            if (rows[0].Item2 is { } source)
            {
                // A licence's certificate shows the licensor's right as it was when it licensed: its events up to the licence.
                var parent = RightName.FromStored(source);
                // Its own events only: the licences drawn from it before this one are not this licence's history.
                events.AddRange(await EventsAsync(connection, parent.Id, events.Min(), ownOnly: true, ct));
                events.Sort();
            }

            return (rows[0].Item1, events);
        }, cancellationToken);

    /// <summary>One page of rights matching the filters, in registration order after <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Right> Page, long? Next)> ListAsync(DatasetId? dataset, string? holder, RightKind kind, RightState state, long after,
        int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Right>, long?)>(async (connection, ct) =>
        {
            // ACTIVE and EXPIRED are one stored state, told apart by the time now.
            var stateFilter = state switch
            {
                RightState.Unspecified => "1 = 1",
                RightState.Active => "r.state = 2 AND (r.end_time IS NULL OR r.end_time > @now)",
                RightState.Expired => "r.state = 2 AND r.end_time <= @now",
                _ => "r.state = @state",
            };
            var now = time.GetUtcNow();
            await using var command = connection.Command($"""
                SELECT r.seq, r.record, r.dataset_provider FROM rights r
                WHERE r.seq > @after
                  AND (CAST(@dataset AS TEXT) IS NULL OR r.dataset_id = @dataset)
                  AND (CAST(@holder AS TEXT) IS NULL OR r.holder = @holder)
                  AND (@kind = 0 OR r.kind = @kind)
                  AND {stateFilter}
                ORDER BY r.seq LIMIT @limit
                """)
                .With("@after", after).With("@dataset", dataset?.Value).With("@holder", holder).With("@kind", (int)kind)
                .With("@state", (int)state).With("@now", Timestamps.ToMicros(now)).With("@limit", pageSize + 1);
            var rows = await command.ListAsync(r => (r.GetInt64(0), AsOf(ReadRow(r).Record, now)), ct);
            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    /// <summary>Files an objection to the registration or change under review.</summary>
    public Task<Decision<(Right Right, RightObjection Objection)>> ObjectAsync(Caller caller, RightName name, string reason,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(Right, RightObjection)>>(unit =>
        {
            var row = Find(unit, name);
            var right = row.Record;
            if (!RightsPolicy.CanObject(caller, right.Holder))
            {
                return Deny(unit, caller, AuditActions.RightObject, row, caller.Participant == right.Holder
                    ? "The holder does not object to its own right; change or cancel it instead."
                    : "Only participants (providers and consumers) other than the holder may object; the reviewer decides instead.");
            }

            RequireUnderReview(right, "objected to");
            // One objection per participant and review: a dismissed one is not filed again to hold the review up.
            var current = right.Objections.Where(o => o.Review == right.Review).ToList();
            if (current.FirstOrDefault(o => o.Objector == caller.Participant) is { } earlier)
            {
                throw Refusal.Precondition(earlier.State == RightObjectionState.Open
                    ? $"You already have an open objection to '{name.Name}', {earlier.Name}; the reviewer resolves it."
                    : $"Your objection to this review of '{name.Name}', {earlier.Name}, was {Describe(earlier.State)}; the reviewer has decided on it.");
            }

            if (current.Count >= MaxObjections || right.Objections.Count >= MaxObjectionsKept)
            {
                throw Refusal.Precondition($"'{name.Name}' has as many objections as a review takes; the reviewer decides.");
            }

            var next = right.Clone();
            var objection = new RightObjection
            {
                Name = $"{name.Name}/objections/{RandomIds.New()}",
                Objector = caller.Participant,
                Reason = reason,
                State = RightObjectionState.Open,
                CreateTime = Timestamp.FromDateTimeOffset(unit.Now),
                Review = right.Review,
            };
            next.Objections.Add(objection);
            var saved = Save(unit, caller, AuditActions.RightObject, row, row.DatasetProvider, next, right.Holder,
                new() { ["objection"] = objection.Name, ["reason"] = reason });
            return (saved, objection);
        }, cancellationToken);

    /// <summary>Upholds an open objection, rejecting what was under review, or dismisses it.</summary>
    public Task<Decision<Right>> ResolveObjectionAsync(Caller caller, RightName name, string objectionId, bool uphold, string reason,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var objectionName = $"{name.Name}/objections/{objectionId}";
            var index = row.Record.Objections.ToList().FindIndex(o => o.Name == objectionName);
            if (index < 0)
            {
                throw Refusal.NotFound(objectionName, exists: false);
            }

            if (!RightsPolicy.CanReview(caller))
            {
                return Deny(unit, caller, AuditActions.RightResolveObjection, row, "Only an operator (the registry's reviewer) may resolve objections.");
            }

            var objection = row.Record.Objections[index];
            if (objection.State != RightObjectionState.Open)
            {
                throw Refusal.Precondition($"'{objectionName}' was already {objection.State.ToString().ToLowerInvariant()}.");
            }

            var next = row.Record.Clone();
            var resolved = next.Objections[index];
            resolved.State = uphold ? RightObjectionState.Upheld : RightObjectionState.Dismissed;
            resolved.Resolution = reason;
            resolved.ResolveTime = Timestamp.FromDateTimeOffset(unit.Now);
            if (uphold)
            {
                EndReview(next, unit.Now, $"objection upheld ({objection.Objector}: {objection.Reason}): {reason}");
            }

            return Save(unit, caller, AuditActions.RightResolveObjection, row, row.DatasetProvider, next, next.Holder,
                new() { ["objection"] = objectionName, ["upheld"] = uphold ? "true" : "false", ["reason"] = reason });
        }, cancellationToken);

    /// <summary>Approves the registration or change under review, once its notice is over and no objection is open.</summary>
    public Task<Decision<Right>> ApproveAsync(Caller caller, RightName name, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            if (!RightsPolicy.CanReview(caller))
            {
                return Deny(unit, caller, AuditActions.RightApprove, row, "Only an operator (the registry's reviewer) may approve rights.");
            }

            var right = row.Record;
            RequireUnderReview(right, "approved");
            if (right.NoticeEndTime.ToDateTimeOffset() > unit.Now)
            {
                throw Refusal.Precondition(
                    $"'{name.Name}' is under public notice until {Format(right.NoticeEndTime)}; it can be approved after that.");
            }

            if (right.Objections.FirstOrDefault(o => o.State == RightObjectionState.Open) is { } open)
            {
                throw Refusal.Precondition(
                    $"'{name.Name}' has an open objection, {open.Name} ({open.Objector}: {open.Reason}); resolve it first.");
            }

            var next = right.Clone();
            if (right.State == RightState.Pending)
            {
                RefuseOverlap(unit, name.Dataset, right.Kind, Start(right), RightScopes.End(right), right.Holder, exceptId: name.Id);
                next.State = RightState.Active;
            }
            else
            {
                var change = right.PendingChange;
                RequireFit(unit, name, right, change);
                next.Scope = change.Scope.Clone();
                next.StartTime = change.StartTime.Clone();
                next.EndTime = change.EndTime?.Clone();
                next.PendingChange = null;
            }

            next.NoticeEndTime = null;
            next.DecisionReason = "";
            return Save(unit, caller, AuditActions.RightApprove, row, row.DatasetProvider, next, next.Holder,
                right.State == RightState.Pending ? null : new() { ["change"] = "applied" });
        }, cancellationToken);

    /// <summary>Rejects the registration or change under review.</summary>
    public Task<Decision<Right>> RejectAsync(Caller caller, RightName name, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            if (!RightsPolicy.CanReview(caller))
            {
                return Deny(unit, caller, AuditActions.RightReject, row, "Only an operator (the registry's reviewer) may reject rights.");
            }

            RequireUnderReview(row.Record, "rejected");
            var next = row.Record.Clone();
            EndReview(next, unit.Now, reason);
            return Save(unit, caller, AuditActions.RightReject, row, row.DatasetProvider, next, next.Holder, new() { ["reason"] = reason });
        }, cancellationToken);

    /// <summary>Licenses a right of <paramref name="kind"/> from the caller's active holding right to <paramref name="licensee"/>.</summary>
    public Task<Decision<Right>> LicenseAsync(Caller caller, RightName name, string licensee, RightKind kind, RightScope? scope, Timestamp? start,
        Timestamp? end, string requestId, byte[] fingerprint, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            if (Remembered(unit, caller, "LicenseRight", requestId, fingerprint) is { } earlier)
            {
                return earlier;
            }

            var row = Find(unit, name);
            var source = AsOf(row.Record, unit.Now);
            if (!RightsPolicy.IsHolder(caller, source.Holder))
            {
                return Deny(unit, caller, AuditActions.RightLicense, row, $"Only the holder of '{name.Name}' may license it.");
            }

            if (source.Kind != RightKind.Holding || source.Basis.Kind == RightBasisKind.License)
            {
                throw Refusal.Precondition($"'{name.Name}' is a {Describe(source.Kind)} right; licences are drawn from a registered holding right.");
            }

            RequireInForce(source, unit.Now, "licensed");
            if (licensee == source.Holder)
            {
                throw Refusal.Invalid($"licensee '{licensee}' already holds '{name.Name}'; a licence goes to another participant.");
            }

            // A licence cannot be wider than its source, so what it leaves empty ("any") it takes from the source.
            var licensedScope = scope?.Clone() ?? new RightScope();
            if (licensedScope.Purposes.Count == 0)
            {
                licensedScope.Purposes.Add(source.Scope.Purposes);
            }

            if (licensedScope.Territories.Count == 0)
            {
                licensedScope.Territories.Add(source.Scope.Territories);
            }

            if (!RightScopes.Covers(source.Scope, licensedScope))
            {
                throw Refusal.Invalid($"scope is wider than '{name.Name}' covers (purposes {List(source.Scope.Purposes)}, " +
                    $"territories {List(source.Scope.Territories)}); a licence can only narrow it.");
            }

            var from = start is null ? unit.Now : start.ToDateTimeOffset();
            var until = end is null ? RightScopes.End(source) : end.ToDateTimeOffset();
            if (!RightScopes.WithinValidity(source, from, until))
            {
                throw Refusal.Invalid($"the licence's validity must lie within that of '{name.Name}' " +
                    $"({Format(source.StartTime)} to {(source.EndTime is null ? "no end" : Format(source.EndTime))}).");
            }

            var licence = new Right
            {
                Name = RightName.New(name.Dataset).Name,
                Dataset = source.Dataset,
                Kind = kind,
                Holder = licensee,
                Basis = new RightBasis { Kind = RightBasisKind.License, LicensedFrom = source.Name },
                Scope = licensedScope,
                StartTime = Timestamp.FromDateTimeOffset(from),
                EndTime = until is { } u ? Timestamp.FromDateTimeOffset(u) : null,
                State = RightState.Active,
                Registrant = caller.Participant,
                CreateTime = Timestamp.FromDateTimeOffset(unit.Now),
            };
            var saved = Save(unit, caller, AuditActions.RightLicense, null, row.DatasetProvider, licence, licensee,
                new() { ["licensed_from"] = source.Name }, licensedFrom: name.Id);
            Remember(unit, caller, "LicenseRight", requestId, fingerprint, saved);
            return saved;
        }, cancellationToken);

    /// <summary>Offers the caller's right to <paramref name="newHolder"/>, or withdraws the offer when it is empty.</summary>
    public Task<Decision<Right>> OfferAsync(Caller caller, RightName name, string newHolder, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var right = AsOf(row.Record, unit.Now);
            if (!RightsPolicy.IsHolder(caller, right.Holder))
            {
                return Deny(unit, caller, AuditActions.RightTransferOffer, row, $"Only the holder of '{name.Name}' may transfer it.");
            }

            var next = row.Record.Clone();
            if (newHolder.Length == 0)
            {
                if (right.PendingHolder.Length == 0)
                {
                    throw Refusal.Precondition($"'{name.Name}' has no transfer offer to withdraw.");
                }

                next.PendingHolder = "";
                return Save(unit, caller, AuditActions.RightTransferOffer, row, row.DatasetProvider, next, right.PendingHolder,
                    new() { ["withdrawn"] = right.PendingHolder });
            }

            if (right.Basis.Kind == RightBasisKind.License)
            {
                throw Refusal.Precondition($"'{name.Name}' is a licence from {right.Basis.LicensedFrom}; a licence is not transferable.");
            }

            RequireInForce(right, unit.Now, "transferred");
            if (newHolder == right.Holder)
            {
                throw Refusal.Invalid($"new_holder '{newHolder}' already holds '{name.Name}'.");
            }

            next.PendingHolder = newHolder;
            return Save(unit, caller, AuditActions.RightTransferOffer, row, row.DatasetProvider, next, newHolder, new() { ["new_holder"] = newHolder });
        }, cancellationToken);

    /// <summary>The participant a right was offered to accepts it and becomes its holder.</summary>
    public Task<Decision<Right>> AcceptAsync(Caller caller, RightName name, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var right = AsOf(row.Record, unit.Now);
            if (right.PendingHolder.Length == 0)
            {
                throw Refusal.Precondition($"'{name.Name}' is not offered to anyone; its holder offers it with TransferRight.");
            }

            if (caller.Participant != right.PendingHolder || !(caller.IsProvider || caller.IsConsumer))
            {
                return Deny(unit, caller, AuditActions.RightTransferAccept, row, $"'{name.Name}' is offered to another participant.");
            }

            RequireInForce(right, unit.Now, "transferred");
            var next = row.Record.Clone();
            next.Holder = caller.Participant;
            next.PendingHolder = "";
            return Save(unit, caller, AuditActions.RightTransferAccept, row, row.DatasetProvider, next, right.Holder,
                new() { ["previous_holder"] = right.Holder });
        }, cancellationToken);

    /// <summary>Puts a new scope or validity under review; the right stays in force as it was until approval.</summary>
    public Task<Decision<Right>> ChangeAsync(Caller caller, RightName name, RightChange change, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var right = AsOf(row.Record, unit.Now);
            var source = Source(unit, right);
            if (!RightsPolicy.IsHolder(caller, source?.Holder ?? right.Holder))
            {
                return Deny(unit, caller, AuditActions.RightChange, row, source is null
                    ? $"Only the holder of '{name.Name}' may change it."
                    : $"'{name.Name}' is a licence; only the holder of {source.Name}, its licensor, may change it.");
            }

            if (right.State != RightState.Active)
            {
                throw Refusal.Precondition($"'{name.Name}' is {Describe(right.State)}; only an active right can be changed.");
            }

            if (right.PendingChange is not null)
            {
                throw Refusal.Precondition($"'{name.Name}' already has a change under review; wait for the decision.");
            }

            var proposed = change.Clone();
            proposed.Scope ??= new RightScope();
            proposed.StartTime ??= right.StartTime.Clone();
            if (proposed.StartTime.ToDateTimeOffset() < Min(Start(right), unit.Now))
            {
                throw Refusal.Invalid("change.start_time may move the start later, or to now, but not into the past: the right did not hold then.");
            }

            RequireFit(unit, name, right, proposed);
            var next = row.Record.Clone();
            next.PendingChange = proposed;
            next.NoticeEndTime = Timestamp.FromDateTimeOffset(unit.Now + NoticePeriod);
            next.Review = right.Review + 1;
            return Save(unit, caller, AuditActions.RightChange, row, row.DatasetProvider, next, right.Holder,
                new() { ["notice_end_time"] = Format(next.NoticeEndTime) });
        }, cancellationToken);

    /// <summary>
    /// Refuses a scope and validity <paramref name="right"/> may not take: a licence's must lie within its
    /// source's, its own active licences must lie within it, and it may not overlap another registration
    /// of its kind. Checked when a change is filed and again when it is approved, since either side may
    /// have changed in between.
    /// </summary>
    private static void RequireFit(WriteUnit unit, RightName name, Right right, RightChange proposed)
    {
        var start = proposed.StartTime.ToDateTimeOffset();
        var end = RightScopes.End(proposed.EndTime);
        if (Source(unit, right) is { } source)
        {
            if (!RightScopes.Covers(source.Scope, proposed.Scope) || !RightScopes.WithinValidity(source, start, end))
            {
                throw Refusal.Precondition($"change: a licence stays within the scope and validity of {source.Name}.");
            }
        }
        else
        {
            RefuseOverlap(unit, name.Dataset, right.Kind, start, end, right.Holder, exceptId: name.Id);
        }

        var probe = new Right { Scope = proposed.Scope, StartTime = proposed.StartTime, EndTime = proposed.EndTime };
        foreach (var licence in Licences(unit, name).Where(l => l.State == RightState.Active))
        {
            if (!RightScopes.Covers(proposed.Scope, licence.Scope) || !RightScopes.WithinValidity(probe, Start(licence), RightScopes.End(licence)))
            {
                throw Refusal.Precondition(
                    $"change: {licence.Name}, licensed to {licence.Holder}, would no longer lie within '{name.Name}'; cancel it first.");
            }
        }
    }

    /// <summary>The right a licence was drawn from, or null for a registered right.</summary>
    private static Right? Source(WriteUnit unit, Right right) =>
        right.Basis.Kind == RightBasisKind.License ? Find(unit, RightName.FromStored(right.Basis.LicensedFrom)).Record : null;

    /// <summary>Moves a right's end later: its holder, or for a licence the licensor.</summary>
    public Task<Decision<Right>> RenewAsync(Caller caller, RightName name, Timestamp endTime, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var right = AsOf(row.Record, unit.Now);
            var source = Source(unit, right);
            var licensed = source is not null;
            var renewer = source?.Holder ?? right.Holder;
            if (!RightsPolicy.IsHolder(caller, renewer))
            {
                return Deny(unit, caller, AuditActions.RightRenew, row, licensed
                    ? $"'{name.Name}' is a licence; only the holder of {source!.Name}, its licensor, may renew it."
                    : $"Only the holder of '{name.Name}' may renew it.");
            }

            if (right.State is not (RightState.Active or RightState.Expired))
            {
                throw Refusal.Precondition($"'{name.Name}' is {Describe(right.State)}; only an active or expired right can be renewed.");
            }

            if (right.EndTime is null)
            {
                throw Refusal.Precondition($"'{name.Name}' has no end; there is nothing to renew.");
            }

            var end = endTime.ToDateTimeOffset();
            if (end <= right.EndTime.ToDateTimeOffset())
            {
                throw Refusal.Invalid($"end_time must be later than the current end, {Format(right.EndTime)}.");
            }

            if (source is not null && !RightScopes.WithinValidity(source, Start(right), end))
            {
                throw Refusal.Invalid($"end_time: a licence ends no later than {source.Name}, " +
                    $"{(source.EndTime is null ? "which has no end" : Format(source.EndTime))}.");
            }

            if (source is null)
            {
                RefuseOverlap(unit, name.Dataset, right.Kind, Start(right), end, right.Holder, exceptId: name.Id);
            }

            var next = row.Record.Clone();
            next.EndTime = endTime.Clone();
            return Save(unit, caller, AuditActions.RightRenew, row, row.DatasetProvider, next, right.Holder,
                new() { ["previous_end_time"] = Format(right.EndTime) });
        }, cancellationToken);

    /// <summary>Cancels a right and every active licence drawn from it.</summary>
    public Task<Decision<Right>> CancelAsync(Caller caller, RightName name, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Right>>(unit =>
        {
            var row = Find(unit, name);
            var right = AsOf(row.Record, unit.Now);
            if (!RightsPolicy.CanCancel(caller, right.Holder))
            {
                return Deny(unit, caller, AuditActions.RightCancel, row, $"Only the holder of '{name.Name}' or an operator may cancel it.");
            }

            if (!RightsPolicy.IsHolder(caller, right.Holder) && reason.Length == 0)
            {
                throw Refusal.Invalid("reason is required when an operator cancels a right; its holder and the log see it.");
            }

            if (right.State is not (RightState.Active or RightState.Pending))
            {
                throw Refusal.Precondition($"'{name.Name}' is {Describe(right.State)}; only a pending or active right can be cancelled.");
            }

            var cancelled = Cancel(unit, caller, row, reason);
            foreach (var licence in Licences(unit, name).Where(l => l.State is RightState.Active or RightState.Pending))
            {
                Cancel(unit, caller, Find(unit, RightName.FromStored(licence.Name)), $"licensed from {name.Name}, which was cancelled");
            }

            return cancelled;
        }, cancellationToken);

    private Right Cancel(WriteUnit unit, Caller caller, Row row, string reason)
    {
        var licensed = row.Record.Basis.Kind == RightBasisKind.License;
        if (RightScopes.InForce(row.Record, unit.Now) && (licensed || row.Record.Kind == RightKind.Holding))
        {
            // What was derived from the dataset loses its footing: all of it when the holding right ends, what the
            // licensee derived when a licence ends. A product-operation right is about offering the data, not holding it.
            derivations.RightCancelled(unit, caller.Participant, RightName.FromStored(row.Record.Name).Dataset, licensed ? row.Record.Holder : null,
                row.Record.Name, reason);
        }

        var next = row.Record.Clone();
        next.State = RightState.Cancelled;
        next.DecisionReason = reason;
        next.PendingHolder = "";
        next.PendingChange = null;
        next.NoticeEndTime = null;
        CloseObjections(next, unit.Now, "the right was cancelled");
        return Save(unit, caller, AuditActions.RightCancel, row, row.DatasetProvider, next, next.Holder,
            reason.Length == 0 ? null : new() { ["reason"] = reason });
    }

    /// <summary>
    /// Writes <paramref name="next"/> as the right's new version and its audit event, which carries the
    /// SHA-256 of the record's bytes; links the event to the right (and to the right licensed from).
    /// </summary>
    private static Right Save(WriteUnit unit, Caller caller, string action, Row? row, string datasetProvider, Right next, string subject,
        Dictionary<string, string>? details, string? licensedFrom = null)
    {
        next.Version = (row?.Record.Version ?? 0) + 1;
        next.UpdateTime = Timestamp.FromDateTimeOffset(unit.Now);
        var record = next.ToByteArray();
        var name = RightName.FromStored(next.Name);
        unit.Command(row is null
                ? """
                  INSERT INTO rights (id, dataset_id, dataset_provider, kind, holder, state, licensed_from, start_time, end_time, record)
                  VALUES (@id, @d, @provider, @kind, @holder, @state, @from, @start, @end, @record)
                  """
                : """
                  UPDATE rights SET holder = @holder, state = @state, start_time = @start, end_time = @end, record = @record
                  WHERE id = @id
                  """)
            .With("@id", name.Id).With("@d", name.Dataset.Value).With("@provider", datasetProvider).With("@kind", (int)next.Kind)
            .With("@holder", next.Holder).With("@state", (int)next.State).With("@from", NullIfEmpty(next.Basis.LicensedFrom))
            .With("@start", Timestamps.ToMicros(next.StartTime)).With("@end", next.EndTime is null ? null : Timestamps.ToMicros(next.EndTime))
            .With("@record", record)
            .ExecuteNonQuery();

        details ??= [];
        details["record_sha256"] = Convert.ToHexStringLower(SHA256.HashData(record));
        details["version"] = next.Version.ToString(CultureInfo.InvariantCulture);
        details["kind"] = Describe(next.Kind);
        details["holder"] = next.Holder;
        details["state"] = Describe(next.State);
        var index = unit.Record(new AuditEntry(caller.Participant, action, next.Name, Outcome.Success, Dataset: next.Dataset, Subject: subject,
            DatasetProvider: datasetProvider, Details: details));
        Link(unit, name.Id, index, own: true);
        if (licensedFrom is not null)
        {
            Link(unit, licensedFrom, index, own: false);
        }

        return AsOf(next, unit.Now);
    }

    private static void Link(WriteUnit unit, string rightId, long index, bool own) =>
        unit.Command("INSERT INTO right_events (right_id, idx, own) VALUES (@id, @idx, @own)")
            .With("@id", rightId).With("@idx", index).With("@own", own ? 1 : 0).ExecuteNonQuery();

    private static Denial Deny(WriteUnit unit, Caller caller, string action, Row row, string reason) =>
        unit.Deny(Entry(caller, action, row.Record.Name, RightName.FromStored(row.Record.Name).Dataset, row.DatasetProvider, row.Record.Holder),
            reason);

    private static AuditEntry Entry(Caller caller, string action, string resource, DatasetId dataset, string provider, string subject) =>
        new(caller.Participant, action, resource, Outcome.Success, Dataset: dataset.Name, Subject: subject, DatasetProvider: provider);

    /// <summary>
    /// Refuses a registration whose validity overlaps a pending or active one of the same kind on the
    /// dataset (licences aside, which many may hold): ALREADY_EXISTS naming it.
    /// </summary>
    private static void RefuseOverlap(WriteUnit unit, DatasetId dataset, RightKind kind, DateTimeOffset start, DateTimeOffset? end, string holder,
        string? exceptId)
    {
        using var command = unit.Command("""
            SELECT record FROM rights
            WHERE dataset_id = @d AND kind = @kind AND state IN (1, 2) AND licensed_from IS NULL AND (CAST(@except AS TEXT) IS NULL OR id <> @except)
              AND (end_time IS NULL OR end_time > @now)
            """)
            .With("@d", dataset.Value).With("@kind", (int)kind).With("@except", exceptId).With("@now", Timestamps.ToMicros(unit.Now));
        foreach (var other in Records(command))
        {
            if (RightScopes.Overlap(start, end, Start(other), RightScopes.End(other)))
            {
                throw Refusal.Conflict(other.Holder == holder
                    ? $"{other.Name} already registers a {Describe(kind)} right of {holder}'s on {dataset.Name} for an overlapping time " +
                      $"({Describe(other.State)}); change or renew it instead."
                    : $"{other.Name}, held by {other.Holder}, already registers a {Describe(kind)} right on {dataset.Name} " +
                      $"for an overlapping time ({Describe(other.State)}).");
            }
        }
    }

    private static List<Right> Licences(WriteUnit unit, RightName name)
    {
        using var command = unit.Command("SELECT record FROM rights WHERE licensed_from = @from").With("@from", name.Name);
        return [.. Records(command).Select(r => AsOf(r, unit.Now))];
    }

    /// <summary>The rights whose records <paramref name="command"/> selects (as its first column), inside a unit of work.</summary>
    internal static List<Right> Records(DbCommand command)
    {
        using var reader = command.ExecuteReader();
        var rights = new List<Right>();
        while (reader.Read())
        {
            rights.Add(Right.Parser.ParseFrom((byte[])reader[0]));
        }

        return rights;
    }

    private static async Task<List<long>> EventsAsync(DbConnection connection, string rightId, long before, bool ownOnly,
        CancellationToken cancellationToken)
    {
        await using var command = connection.Command("SELECT idx FROM right_events WHERE right_id = @id AND idx < @before AND own >= @own ORDER BY idx")
            .With("@id", rightId).With("@before", before).With("@own", ownOnly ? 1 : 0);
        return await command.ListAsync(r => r.GetInt64(0), cancellationToken);
    }

    private static Row Find(WriteUnit unit, RightName name)
    {
        using var command = unit.Command("SELECT seq, record, dataset_provider FROM rights WHERE id = @id AND dataset_id = @d")
            .With("@id", name.Id).With("@d", name.Dataset.Value);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadRow(reader) : throw Refusal.NotFound(name.Name, exists: false);
    }

    private static Row ReadRow(DbDataReader reader) =>
        new(reader.GetInt64(0), Right.Parser.ParseFrom((byte[])reader[1]), reader.GetString(2));

    private static Right? Remembered(WriteUnit unit, Caller caller, string method, string requestId, byte[] fingerprint) =>
        requestId.Length > 0 &&
        IdempotencyKeys.Find(unit.Connection, unit.Transaction, caller.Participant, method, requestId, fingerprint) is { } existing
            ? AsOf(Find(unit, RightName.FromStored(existing)).Record, unit.Now)
            : null;

    private static void Remember(WriteUnit unit, Caller caller, string method, string requestId, byte[] fingerprint, Right saved)
    {
        if (requestId.Length > 0)
        {
            IdempotencyKeys.Remember(unit.Connection, unit.Transaction, caller.Participant, method, requestId, fingerprint, saved.Name,
                Timestamps.ToMicros(unit.Now));
        }
    }

    /// <summary>The right as it stands at <paramref name="now"/>: an active one past its end reads EXPIRED.</summary>
    private static Right AsOf(Right record, DateTimeOffset now)
    {
        if (record.State != RightState.Active || RightScopes.End(record) is not { } end || end > now)
        {
            return record;
        }

        var expired = record.Clone();
        expired.State = RightState.Expired;
        return expired;
    }

    private static void RequireUnderReview(Right right, string verb)
    {
        if (right.State != RightState.Pending && !(right.State == RightState.Active && right.PendingChange is not null))
        {
            throw Refusal.Precondition(
                $"'{right.Name}' is {Describe(right.State)} with nothing under review; only a registration or change under review can be {verb}.");
        }
    }

    private static void RequireInForce(Right right, DateTimeOffset now, string verb)
    {
        if (!RightScopes.InForce(right, now))
        {
            throw Refusal.Precondition(right.State == RightState.Active
                ? $"'{right.Name}' is not in force until {Format(right.StartTime)}; it can be {verb} from then."
                : $"'{right.Name}' is {Describe(right.State)}; only a right in force can be {verb}.");
        }
    }

    /// <summary>Ends a review unsuccessfully: a registration is rejected, a change dropped (the right stays as it was).</summary>
    private static void EndReview(Right right, DateTimeOffset now, string reason)
    {
        if (right.State == RightState.Pending)
        {
            right.State = RightState.Rejected;
        }

        right.PendingChange = null;
        right.NoticeEndTime = null;
        right.DecisionReason = reason;
        CloseObjections(right, now, "the review ended");
    }

    private static void CloseObjections(Right right, DateTimeOffset now, string resolution)
    {
        foreach (var open in right.Objections.Where(o => o.State == RightObjectionState.Open))
        {
            open.State = RightObjectionState.Dismissed;
            open.Resolution = resolution;
            open.ResolveTime = Timestamp.FromDateTimeOffset(now);
        }
    }

    private static DateTimeOffset Start(Right right) => RightScopes.Start(right);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static object? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string Format(Timestamp time) => time.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string List(IEnumerable<string> values) => values.Any() ? string.Join(", ", values) : "any";

    internal static string Describe(RightKind kind) => kind switch
    {
        RightKind.Holding => "holding",
        RightKind.ProcessingUse => "processing-use",
        RightKind.ProductOperation => "product-operation",
        _ => "unspecified",
    };

    internal static string Describe(RightState state) => state.ToString().ToLowerInvariant();

    private static string Describe(RightObjectionState state) => state.ToString().ToLowerInvariant();

    private sealed record Row(long Seq, Right Record, string DatasetProvider);
}
