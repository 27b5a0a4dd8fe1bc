using System.Globalization;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Storage;
using Exchange.V1;
using Grant = Exchange.Server.Access.Model.Grant;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Billing;

/// <summary>
/// Turns chargeable events into usage records, each posted to the ledger and recorded as a
/// <c>billing.charge</c> event in the unit of work of the event it charges. A usage record's id is
/// derived from its event, so a replayed or retried event finds its record and charges nothing more.
/// </summary>
internal sealed class Meter(IOptions<Hosting.ExchangeOptions> options) : IMeter
{
    /// <summary>The exchange's side of every settlement: it collects what participants owe and pays what they earned.</summary>
    public const string ClearingParty = "exchange:clearing";

    /// <summary>The ledger account that collects the exchange's fees.</summary>
    public const string FeeAccount = "fees:exchange";

    private const string UsageInsert = """
        INSERT INTO usage_records (id, grant_id, dataset_id, consumer, provider, offer, kind, units, amount_minor, fee_minor, currency,
            resource, event_index, charge_index, usage_period, period, charge_time)
        VALUES (@id, @grant, @dataset, @consumer, @provider, @offer, @kind, @units, @amount, @fee, @currency,
            @resource, @event, @charge, @usage_period, @period, @now)
        """;

    public static string PayableAccount(string participant) => $"payable:{participant}";

    public static string ReceivableAccount(string participant) => $"receivable:{participant}";

    public void Approved(WriteUnit unit, Grant grant, long approveIndex)
    {
        switch (grant.Terms.Offer)
        {
            case { Kind: OfferKind.OneOff }:
                Charge(unit, grant, $"grant-{grant.Id.Value}", 1, grant.Id.Name, approveIndex, unit.Now);
                break;
            case { Kind: OfferKind.Subscription } subscription:
                Charge(unit, grant, SubscriptionUsage(grant, 1), 1, grant.Id.Name, approveIndex, unit.Now);
                if (subscription.AutoRenew)
                {
                    unit.Command("INSERT INTO subscriptions (grant_id, next_number, next_start, approve_index) VALUES (@grant, 2, @start, @index)")
                        .With("@grant", grant.Id.Value).With("@start", Timestamps.ToMicros(grant.PeriodStart(2))).With("@index", approveIndex)
                        .ExecuteNonQuery();
                }

                break;
        }
    }

    public void TransferEnded(WriteUnit unit, Grant grant, string transfer, long attempt, bool completed, long bytesSent, long eventIndex)
    {
        var id = transfer["transfers/".Length..];
        switch (grant.Terms.Offer)
        {
            case { Kind: OfferKind.PerTransfer } when completed:
                Charge(unit, grant, $"transfer-{id}", 1, transfer, eventIndex, unit.Now);
                break;
            case { Kind: OfferKind.PerGib, PartialTransferCharge: PartialTransferCharge.BytesSent }:
                // Each stream is charged for the bytes it took the transfer past what was charged before: a resume re-sends a little.
                var charged = Convert.ToInt64(unit.Command("SELECT COALESCE(SUM(units), 0) FROM usage_records WHERE resource = @t")
                    .With("@t", transfer).ExecuteScalar(), CultureInfo.InvariantCulture);
                if (bytesSent > charged)
                {
                    Charge(unit, grant, $"transfer-{id}-{attempt.ToString(CultureInfo.InvariantCulture)}", bytesSent - charged, transfer, eventIndex, unit.Now);
                }

                break;
            case { Kind: OfferKind.PerGib } when completed:
                Charge(unit, grant, $"transfer-{id}", bytesSent, transfer, eventIndex, unit.Now);
                break;
        }
    }

    public void QueryAnswered(WriteUnit unit, Grant grant, long queryIndex)
    {
        if (grant.Terms.Offer is { Kind: OfferKind.PerQuery })
        {
            Charge(unit, grant, $"query-{queryIndex.ToString(CultureInfo.InvariantCulture)}", 1, grant.Id.Name, queryIndex, unit.Now);
        }
    }

    /// <summary>
    /// Charges, each as of its start, the periods of an auto-renewing subscription from period <paramref name="first"/> that have
    /// started while the grant ran (until revoked, expired or <paramref name="exhausted"/>), and moves its subscription on to the
    /// next period, or ends it once the grant ends before that. Returns how many it charged and when the next period starts
    /// (null: the subscription ended).
    /// </summary>
    public (int Charged, DateTimeOffset? Next) RenewDue(WriteUnit unit, Grant grant, long first, long approveIndex, DateTimeOffset? exhausted)
    {
        var charged = 0;
        var number = first;
        for (var start = grant.PeriodStart(number); start <= unit.Now && !EndedBy(grant, exhausted, start); start = grant.PeriodStart(++number))
        {
            Renewed(unit, grant, number, approveIndex);
            charged++;
        }

        var next = grant.PeriodStart(number);
        if (EndedBy(grant, exhausted, next))
        {
            unit.Command("DELETE FROM subscriptions WHERE grant_id = @grant").With("@grant", grant.Id.Value).ExecuteNonQuery();
            return (charged, null);
        }

        unit.Command("UPDATE subscriptions SET next_number = @number, next_start = @start WHERE grant_id = @grant")
            .With("@number", number).With("@start", Timestamps.ToMicros(next)).With("@grant", grant.Id.Value).ExecuteNonQuery();
        return (charged, next);
    }

    public DateTimeOffset? EndRenewal(WriteUnit unit, Grant grant)
    {
        long first, approveIndex;
        using (var command = unit.Command("SELECT next_number, approve_index FROM subscriptions WHERE grant_id = @grant").With("@grant", grant.Id.Value))
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return null;
            }

            (first, approveIndex) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        // The periods that have started are the consumer's to pay, charged here if the sweeper has not yet.
        if (RenewDue(unit, grant, first, approveIndex, exhausted: null).Next is not { } end)
        {
            return null;
        }

        unit.Command("DELETE FROM subscriptions WHERE grant_id = @grant").With("@grant", grant.Id.Value).ExecuteNonQuery();
        return end;
    }

    private static bool EndedBy(Grant grant, DateTimeOffset? exhausted, DateTimeOffset time) =>
        grant.RevokeTime <= time || grant.Terms.ExpireTime <= time || exhausted <= time;

    /// <summary>Charges period <paramref name="number"/> of an auto-renewing subscription, as of when it started.</summary>
    public void Renewed(WriteUnit unit, Grant grant, long number, long approveIndex) =>
        Charge(unit, grant, SubscriptionUsage(grant, number), 1, grant.Id.Name, approveIndex, grant.PeriodStart(number));


    private static string SubscriptionUsage(Grant grant, long number) => $"subscription-{grant.Id.Value}-{number.ToString(CultureInfo.InvariantCulture)}";

    private void Charge(WriteUnit unit, Grant grant, string id, long units, string resource, long eventIndex, DateTimeOffset usageTime)
    {
        if (unit.Command("SELECT 1 FROM usage_records WHERE id = @id").With("@id", id).ExecuteScalar() is not null)
        {
            return;
        }

        var offer = grant.Terms.Offer!;
        var usagePeriod = PeriodName.Of(usageTime);
        long priorUnits = 0, priorMinor = 0;
        using (var command = unit.Command("SELECT units, amount_minor FROM usage_totals WHERE grant_id = @grant AND usage_period = @period")
            .With("@grant", grant.Id.Value).With("@period", usagePeriod.Period))
        using (var reader = command.ExecuteReader())
        {
            if (reader.Read())
            {
                (priorUnits, priorMinor) = (reader.GetInt64(0), reader.GetInt64(1));
            }
        }

        var amount = OfferCharges.Charge(offer, priorUnits, units, priorMinor);
        var fee = OfferCharges.Fee(amount, options.Value.Billing.FeeBasisPoints);
        Write(unit, AuditActions.GatewayActor, new Usage(id, grant.Id, grant.Dataset, grant.Consumer, grant.Provider, offer.Name, offer.Kind, units, amount,
            fee, offer.Price?.Currency ?? "", resource, eventIndex, usagePeriod),
            ("fee_basis_points", options.Value.Billing.FeeBasisPoints.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Reverses usage record <paramref name="id"/> for <paramref name="actor"/> (an operator): a record with the opposite units and
    /// amounts, which posts the opposite entries; returns the reversal's id. Refused for a reversal, or a record reversed already.
    /// </summary>
    public string Reverse(WriteUnit unit, string id, string actor, string reason)
    {
        if (id.StartsWith(ReversalPrefix, StringComparison.Ordinal))
        {
            throw Refusal.Precondition($"'usageRecords/{id}' is a reversal; a reversal is not reversed (charge again instead).");
        }

        var reversal = ReversalPrefix + id;
        if (unit.Command("SELECT 1 FROM usage_records WHERE id = @id").With("@id", reversal).ExecuteScalar() is not null)
        {
            throw Refusal.Precondition($"'usageRecords/{id}' is already reversed, by 'usageRecords/{reversal}'.");
        }

        Usage original;
        using (var command = unit.Command("""
            SELECT grant_id, dataset_id, consumer, provider, offer, kind, units, amount_minor, fee_minor, currency, charge_index, usage_period
            FROM usage_records WHERE id = @id
            """).With("@id", id))
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                throw Refusal.NotFound($"usageRecords/{id}", exists: false);
            }

            original = new Usage(reversal, new GrantId(reader.GetString(0)), new Catalog.DatasetId(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), (OfferKind)reader.GetInt32(5), -reader.GetInt64(6), -reader.GetInt64(7), -reader.GetInt64(8), reader.GetString(9),
                $"usageRecords/{id}", reader.GetInt64(10), PeriodName.FromPeriod(reader.GetString(11)));
        }

        Write(unit, actor, original, ("reason", reason));
        return reversal;
    }

    /// <summary>The id prefix of a reversal: <c>reversal-{id}</c> undoes <c>{id}</c>.</summary>
    public const string ReversalPrefix = "reversal-";

    /// <summary>
    /// Writes a usage record, its <c>billing.charge</c> event and its ledger entries, in the first open period from
    /// the one it happened in: usage of a closed period counts in the next open one, as an adjustment, never dropped.
    /// </summary>
    private static void Write(WriteUnit unit, string actor, Usage usage, (string Key, string Value)? extra)
    {
        // Periods close in order, and one without usage may be passed over: any period up to the latest closed is settled.
        var period = usage.UsagePeriod;
        if (unit.Command("SELECT MAX(period) FROM billing_periods").ExecuteScalar() is string latest && string.CompareOrdinal(latest, period.Period) >= 0)
        {
            period = PeriodName.FromPeriod(latest).Next;
        }

        var details = new Dictionary<string, string>
        {
            ["grant"] = usage.Grant.Name,
            ["provider"] = usage.Provider,
            ["offer"] = usage.Offer,
            ["kind"] = OfferKindName(usage.Kind),
            ["units"] = usage.Units.ToString(CultureInfo.InvariantCulture),
            ["amount_minor"] = usage.Amount.ToString(CultureInfo.InvariantCulture),
            ["fee_minor"] = usage.Fee.ToString(CultureInfo.InvariantCulture),
            ["currency"] = usage.Currency,
            ["resource"] = usage.Resource,
            ["event"] = usage.EventIndex.ToString(CultureInfo.InvariantCulture),
            ["usage_period"] = usage.UsagePeriod.Period,
            ["period"] = period.Period,
        };
        if (extra is { } more)
        {
            details[more.Key] = more.Value;
        }

        var chargeIndex = unit.Record(new AuditEntry(actor, AuditActions.BillingCharge, $"usageRecords/{usage.Id}", Outcome.Success,
            Dataset: usage.Dataset.Name, Subject: usage.Consumer, DatasetProvider: usage.Provider, Details: details));
        unit.Command(UsageInsert)
            .With("@id", usage.Id).With("@grant", usage.Grant.Value).With("@dataset", usage.Dataset.Value).With("@consumer", usage.Consumer)
            .With("@provider", usage.Provider).With("@offer", usage.Offer).With("@kind", (int)usage.Kind).With("@units", usage.Units)
            .With("@amount", usage.Amount).With("@fee", usage.Fee).With("@currency", usage.Currency).With("@resource", usage.Resource)
            .With("@event", usage.EventIndex).With("@charge", chargeIndex).With("@usage_period", usage.UsagePeriod.Period).With("@period", period.Period)
            .With("@now", Timestamps.ToMicros(unit.Now))
            .ExecuteNonQuery();
        // The month's usage so far, reversals included, as the sum of its records would be.
        unit.Command("""
            INSERT INTO usage_totals (grant_id, usage_period, units, amount_minor) VALUES (@grant, @usage_period, @units, @amount)
            ON CONFLICT (grant_id, usage_period) DO UPDATE SET units = usage_totals.units + excluded.units,
                amount_minor = usage_totals.amount_minor + excluded.amount_minor
            """).With("@grant", usage.Grant.Value).With("@usage_period", usage.UsagePeriod.Period).With("@units", usage.Units)
            .With("@amount", usage.Amount).ExecuteNonQuery();
        if (usage.Amount == 0)
        {
            return;
        }

        // Double entry: what the consumer pays is what the provider earns plus the exchange's fee; the entries sum to zero.
        Post(unit, usage.Id, PayableAccount(usage.Consumer), -usage.Amount, usage.Currency, period);
        Post(unit, usage.Id, ReceivableAccount(usage.Provider), usage.Amount - usage.Fee, usage.Currency, period);
        if (usage.Fee != 0)
        {
            Post(unit, usage.Id, FeeAccount, usage.Fee, usage.Currency, period);
        }
    }

    /// <summary>One usage record as written: what was used and charged, and the event it charges.</summary>
    private sealed record Usage(string Id, GrantId Grant, Catalog.DatasetId Dataset, string Consumer, string Provider, string Offer, OfferKind Kind,
        long Units, long Amount, long Fee, string Currency, string Resource, long EventIndex, PeriodName UsagePeriod);

    /// <summary>The kind as the log names it, e.g. <c>per_gib</c>.</summary>
    public static string OfferKindName(OfferKind kind) =>
        System.Text.RegularExpressions.Regex.Replace(kind.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();

    private static void Post(WriteUnit unit, string usage, string account, long amount, string currency, PeriodName period) =>
        unit.Command("INSERT INTO ledger_entries (usage_id, account, amount_minor, currency, period) VALUES (@usage, @account, @amount, @currency, @period)")
            .With("@usage", usage).With("@account", account).With("@amount", amount).With("@currency", currency).With("@period", period.Period)
            .ExecuteNonQuery();
}
