using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Paging;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.V1;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Billing;

/// <summary>
/// Statements, periods and settlements in the database; the sweeps that charge subscription periods
/// as they start and close periods at their cut-off. Usage records and ledger entries are written by
/// <see cref="Meter"/>, inside the events they charge.
/// </summary>
internal sealed class BillingStore(Database database, IGrants grants, Meter meter, IOptions<Hosting.ExchangeOptions> options)
{
    private const string UsageColumns =
        "u.id, u.grant_id, u.dataset_id, u.consumer, u.provider, u.offer, u.kind, u.units, u.amount_minor, u.fee_minor, u.currency, " +
        "u.resource, u.event_index, u.charge_index, u.usage_period, u.period, u.charge_time";

    private const string SettlementColumns = "s.period, s.number, s.payer, s.payee, s.currency, s.amount_minor, s.paid_time, s.paid_by, s.reference";

    /// <summary>One page of the statement's lines (after position <paramref name="after"/>), with the whole period's totals.</summary>
    public Task<(Statement Statement, long? Next)> StatementAsync(StatementName name, long after, int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var statement = new Statement
            {
                Name = name.Name,
                Participant = name.Participant,
                Period = name.Period.Period,
            };
            var lines = await connection.Prepared($"""
                SELECT u.seq, {UsageColumns} FROM usage_records u
                WHERE u.period = @period AND (u.consumer = @me OR u.provider = @me) AND u.seq > @after
                ORDER BY u.seq LIMIT @limit
                """).With("@period", name.Period.Period).With("@me", name.Participant).With("@after", after).With("@limit", pageSize + 1)
                .ListAsync(reader => (reader.GetInt64(0), Line(ReadUsage(reader, 1), name.Participant)), ct);
            var (page, next) = KeysetPage.From(lines, pageSize);
            statement.Lines.Add(page);
            // Totals and the line count in one pass over the period's records.
            var totals = await connection.Prepared("""
                SELECT u.currency,
                       SUM(CASE WHEN u.consumer = @me THEN u.amount_minor ELSE 0 END),
                       SUM(CASE WHEN u.provider = @me THEN u.amount_minor - u.fee_minor ELSE 0 END),
                       SUM(CASE WHEN u.provider = @me THEN u.fee_minor ELSE 0 END),
                       COUNT(*)
                FROM usage_records u WHERE u.period = @period AND (u.consumer = @me OR u.provider = @me)
                GROUP BY u.currency ORDER BY u.currency
                """).With("@period", name.Period.Period).With("@me", name.Participant)
                .ListAsync(reader =>
                {
                    var charges = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
                    var earnings = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
                    return (Total: new StatementTotal
                    {
                        Currency = reader.GetString(0),
                        ChargesMinor = charges,
                        EarningsMinor = earnings,
                        FeesMinor = Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture),
                        NetMinor = earnings - charges,
                    }, Lines: Convert.ToInt64(reader.GetValue(4), CultureInfo.InvariantCulture));
                }, ct);
            statement.Totals.Add(totals.Select(t => t.Total));
            statement.LineCount = totals.Sum(t => t.Lines);
            statement.PeriodState = (await PeriodAsync(connection, name.Period, ct)).State;
            return (statement, next);
        }, cancellationToken);

    public Task<BillingPeriod> PeriodAsync(PeriodName name, CancellationToken cancellationToken) =>
        database.ReadAsync((connection, ct) => PeriodAsync(connection, name, ct), cancellationToken);

    /// <summary>
    /// Closes a period (an operator, or the gateway at the cut-off) and writes its settlement instructions:
    /// each participant's net balance in each currency, settled with the exchange. Periods close in order.
    /// </summary>
    public Task<Decision<(BillingPeriod Period, List<Settlement> Settlements)>> CloseAsync(Caller? caller, PeriodName name,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(BillingPeriod, List<Settlement>)>>(unit =>
        {
            var actor = caller?.Participant ?? AuditActions.GatewayActor;
            if (caller is not null && !BillingPolicy.CanSettle(caller))
            {
                return unit.Deny(new AuditEntry(actor, AuditActions.BillingClose, name.Name, Outcome.Denied),
                    "Only an operator closes a billing period before its cut-off.");
            }

            return Close(unit, name, actor);
        }, cancellationToken);

    public Task<(List<Settlement> Page, long? Next)> SettlementsAsync(Caller caller, PeriodName period, long after, int pageSize,
        CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var rows = await connection.Prepared($"""
                SELECT s.seq, {SettlementColumns} FROM settlements s
                WHERE s.period = @period AND s.seq > @after AND (@all = 1 OR s.payer = @me OR s.payee = @me)
                ORDER BY s.seq LIMIT @limit
                """).With("@period", period.Period).With("@after", after).With("@all", caller.ReadsEverything ? 1 : 0)
                .With("@me", caller.Participant).With("@limit", pageSize + 1)
                .ListAsync(reader => (reader.GetInt64(0), ReadSettlement(reader, 1)), ct);
            var (page, next) = KeysetPage.From(rows, pageSize);
            return (page.ToList(), next);
        }, cancellationToken);

    /// <summary>Records that a settlement was paid, with the payment's reference: an operator's decision, logged.</summary>
    public Task<Decision<Settlement>> MarkPaidAsync(Caller caller, SettlementName name, string reference, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<Settlement>>(unit =>
        {
            if (!BillingPolicy.CanSettle(caller))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.BillingPaid, name.Name, Outcome.Denied),
                    "Only an operator records a settlement as paid.");
            }

            var settlement = FindSettlement(unit, name) ?? throw Refusal.NotFound(name.Name, exists: false);
            var entry = new AuditEntry(caller.Participant, AuditActions.BillingPaid, name.Name, Outcome.Denied,
                Subject: settlement.Payer == Meter.ClearingParty ? settlement.Payee : settlement.Payer);

            if (settlement.State == SettlementState.Paid)
            {
                throw Refusal.Precondition($"'{name.Name}' was already recorded paid by {settlement.PaidBy}, reference '{settlement.PaymentReference}'.");
            }

            unit.Command("UPDATE settlements SET paid_time = @now, paid_by = @by, reference = @reference WHERE period = @period AND number = @number")
                .With("@now", Timestamps.ToMicros(unit.Now)).With("@by", caller.Participant).With("@reference", reference)
                .With("@period", name.Period.Period).With("@number", name.Number)
                .ExecuteNonQuery();
            unit.Record(entry with
            {
                Outcome = Outcome.Success,
                Details = new Dictionary<string, string>
                {
                    ["payer"] = settlement.Payer,
                    ["payee"] = settlement.Payee,
                    ["amount_minor"] = settlement.Amount.AmountMinor.ToString(CultureInfo.InvariantCulture),
                    ["currency"] = settlement.Amount.Currency,
                    ["payment_reference"] = reference,
                },
            });
            return FindSettlement(unit, name)!;
        }, cancellationToken);

    /// <summary>Reverses a usage record: an operator's logged decision, with its reason; see <see cref="Meter.Reverse"/>.</summary>
    public Task<Decision<UsageRecord>> ReverseAsync(Caller caller, string usage, string reason, CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<UsageRecord>>(unit =>
        {
            if (!BillingPolicy.CanSettle(caller))
            {
                return unit.Deny(new AuditEntry(caller.Participant, AuditActions.BillingCharge, $"usageRecords/{Meter.ReversalPrefix}{usage}", Outcome.Denied),
                    "Only an operator reverses a charge.");
            }

            var reversal = meter.Reverse(unit, usage, caller.Participant, reason);
            using var command = unit.Command($"SELECT {UsageColumns} FROM usage_records u WHERE u.id = @id").With("@id", reversal);
            using var reader = command.ExecuteReader();
            reader.Read();
            return ReadUsage(reader, 0);
        }, cancellationToken);

    /// <summary>
    /// Charges every auto-renewing subscription period that has started, as of its start (a period of a
    /// grant revoked or expired before it began is not charged, and the subscription ends); returns how many.
    /// </summary>
    public Task<int> RenewDueAsync(CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            var due = new List<(GrantId Grant, long Number, long ApproveIndex)>();
            using (var command = unit.Command("""
                SELECT grant_id, next_number, approve_index FROM subscriptions WHERE next_start <= @now ORDER BY next_start LIMIT 100
                """).With("@now", Timestamps.ToMicros(unit.Now)))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    due.Add((new GrantId(reader.GetString(0)), reader.GetInt64(1), reader.GetInt64(2)));
                }
            }

            var charged = 0;
            foreach (var (grantId, first, approveIndex) in due)
            {
                var grant = grants.Find(unit, grantId)!;
                // A grant that has used all of its transfers can no longer be used: its subscription ends then, as at revocation or expiry.
                charged += meter.RenewDue(unit, grant, first, approveIndex, grants.ExhaustTime(unit, grant)).Charged;
            }

            return charged;
        }, cancellationToken);

    /// <summary>Closes, in order and as the gateway, every period with usage whose cut-off has passed; returns how many.</summary>
    public Task<int> CloseDueAsync(CancellationToken cancellationToken) =>
        database.WriteAsync(unit =>
        {
            var closed = 0;
            foreach (var period in OpenPeriodsWithUsage(unit))
            {
                if (Cutoff(period) > unit.Now)
                {
                    break;
                }

                Close(unit, period, AuditActions.GatewayActor);
                closed++;
            }

            return closed;
        }, cancellationToken);

    /// <summary>Every ledger entry's sum per currency: zero for each, always (what the tests and an operator check).</summary>
    public Task<Dictionary<string, long>> LedgerBalancesAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
            (await connection.Command("SELECT currency, SUM(amount_minor) FROM ledger_entries GROUP BY currency")
                .ListAsync(reader => (reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)), ct))
            .ToDictionary(r => r.Item1, r => r.Item2), cancellationToken);

    private (BillingPeriod, List<Settlement>) Close(WriteUnit unit, PeriodName name, string actor)
    {
        if (unit.Command("SELECT 1 FROM billing_periods WHERE period = @p").With("@p", name.Period).ExecuteScalar() is not null)
        {
            throw Refusal.Precondition($"'{name.Name}' is already closed; usage of it now counts in the next open period.");
        }

        if (name.Start > unit.Now)
        {
            throw Refusal.Precondition($"'{name.Name}' has not begun; a period closes once it has.");
        }

        if (OpenPeriodsWithUsage(unit).FirstOrDefault(p => p.Start < name.Start) is { Year: > 0 } earlier)
        {
            throw Refusal.Precondition($"'{earlier.Name}' is still open; periods close in order, so close it first.");
        }

        // Each participant settles its net balance in each currency with the exchange, which keeps its fees.
        var balances = new List<(string Participant, string Currency, long Net)>();
        using (var command = unit.Command("""
            SELECT account, currency, SUM(amount_minor) FROM ledger_entries
            WHERE period = @p AND account <> @fees GROUP BY account, currency
            """).With("@p", name.Period).With("@fees", Meter.FeeAccount))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var account = reader.GetString(0);
                balances.Add((account[(account.IndexOf(':', StringComparison.Ordinal) + 1)..], reader.GetString(1),
                    Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)));
            }
        }

        var settlements = new List<Settlement>();
        var digest = new StringBuilder();
        foreach (var net in balances.GroupBy(b => (b.Participant, b.Currency)).Select(g => (g.Key.Participant, g.Key.Currency, Net: g.Sum(b => b.Net)))
                     .Where(n => n.Net != 0).OrderBy(n => n.Participant, StringComparer.Ordinal).ThenBy(n => n.Currency, StringComparer.Ordinal))
        {
            var number = settlements.Count + 1;
            var (payer, payee) = net.Net < 0 ? (net.Participant, Meter.ClearingParty) : (Meter.ClearingParty, net.Participant);
            var amount = Math.Abs(net.Net);
            unit.Command("""
                INSERT INTO settlements (period, number, payer, payee, currency, amount_minor) VALUES (@p, @n, @payer, @payee, @currency, @amount)
                """).With("@p", name.Period).With("@n", number).With("@payer", payer).With("@payee", payee).With("@currency", net.Currency)
                .With("@amount", amount).ExecuteNonQuery();
            digest.Append(CultureInfo.InvariantCulture, $"{number} {payer} {payee} {amount} {net.Currency}\n");
            settlements.Add(FindSettlement(unit, new SettlementName(name, number))!);
        }

        var index = unit.Record(new AuditEntry(actor, AuditActions.BillingClose, name.Name, Outcome.Success, Details: new Dictionary<string, string>
        {
            ["settlements"] = settlements.Count.ToString(CultureInfo.InvariantCulture),
            // One line per instruction, "number payer payee amount currency": what the close committed to.
            ["settlements_sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(digest.ToString()))),
        }));
        unit.Command("INSERT INTO billing_periods (period, close_time, closed_by, close_index) VALUES (@p, @now, @by, @index)")
            .With("@p", name.Period).With("@now", Timestamps.ToMicros(unit.Now)).With("@by", actor).With("@index", index)
            .ExecuteNonQuery();
        return (Period(name, (Timestamps.ToMicros(unit.Now), actor, index)), settlements);
    }

    /// <summary>Open periods that carry usage, oldest first.</summary>
    private static List<PeriodName> OpenPeriodsWithUsage(WriteUnit unit)
    {
        // One index seek per period that has usage (months, not records): this runs in the writer at every sweep.
        var periods = new List<PeriodName>();
        var after = "";
        while (unit.Command("SELECT MIN(period) FROM usage_records WHERE period > @after").With("@after", after).ExecuteScalar() is string period)
        {
            if (unit.Command("SELECT 1 FROM billing_periods WHERE period = @period").With("@period", period).ExecuteScalar() is null)
            {
                periods.Add(PeriodName.FromPeriod(period));
            }

            after = period;
        }

        return periods;
    }

    private DateTimeOffset Cutoff(PeriodName period) => period.End + options.Value.Billing.CloseAfter;

    private async Task<BillingPeriod> PeriodAsync(DbConnection connection, PeriodName name, CancellationToken cancellationToken)
    {
        var closed = await connection.Prepared("SELECT close_time, closed_by, close_index FROM billing_periods WHERE period = @p")
            .With("@p", name.Period).ListAsync(reader => (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)), cancellationToken);
        return Period(name, closed.Count == 0 ? null : closed[0]);
    }

    private BillingPeriod Period(PeriodName name, (long Time, string By, long Index)? closed)
    {
        var period = new BillingPeriod
        {
            Name = name.Name,
            State = closed is null ? BillingPeriodState.Open : BillingPeriodState.Closed,
            CutoffTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Cutoff(name)),
        };
        if (closed is { } c)
        {
            period.CloseTime = Timestamps.FromMicros(c.Time);
            period.ClosedBy = c.By;
            period.CloseIndex = c.Index;
        }

        return period;
    }

    private static Settlement? FindSettlement(WriteUnit unit, SettlementName name)
    {
        using var command = unit.Command($"SELECT {SettlementColumns} FROM settlements s WHERE s.period = @p AND s.number = @n")
            .With("@p", name.Period.Period).With("@n", name.Number);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadSettlement(reader, 0) : null;
    }

    private static Settlement ReadSettlement(DbDataReader reader, int o)
    {
        var settlement = new Settlement
        {
            Name = new SettlementName(PeriodName.FromPeriod(reader.GetString(o)), reader.GetInt32(o + 1)).Name,
            Payer = reader.GetString(o + 2),
            Payee = reader.GetString(o + 3),
            Amount = new Money
            {
                Currency = reader.GetString(o + 4),
                AmountMinor = reader.GetInt64(o + 5),
            },
            State = reader.IsDBNull(o + 6) ? SettlementState.Owed : SettlementState.Paid,
            PaidBy = reader.GetString(o + 7),
            PaymentReference = reader.GetString(o + 8),
        };
        if (!reader.IsDBNull(o + 6))
        {
            settlement.PaidTime = Timestamps.FromMicros(reader.GetInt64(o + 6));
        }

        return settlement;
    }

    private static StatementLine Line(UsageRecord usage, string participant) => new()
    {
        Usage = usage,
        Role = usage.Consumer == participant ? StatementRole.Consumer : StatementRole.Provider,
        Adjustment = usage.UsagePeriod != usage.Period,
    };

    private static UsageRecord ReadUsage(DbDataReader reader, int o) => new()
    {
        Name = $"usageRecords/{reader.GetString(o)}",
        Grant = new GrantId(reader.GetString(o + 1)).Name,
        Dataset = new Catalog.DatasetId(reader.GetString(o + 2)).Name,
        Consumer = reader.GetString(o + 3),
        Provider = reader.GetString(o + 4),
        Offer = reader.GetString(o + 5),
        Kind = (OfferKind)reader.GetInt32(o + 6),
        Units = reader.GetInt64(o + 7),
        Amount = new Money
        {
            AmountMinor = reader.GetInt64(o + 8),
            Currency = reader.GetString(o + 10),
        },
        FeeMinor = reader.GetInt64(o + 9),
        Resource = reader.GetString(o + 11),
        EventIndex = reader.GetInt64(o + 12),
        ChargeIndex = reader.GetInt64(o + 13),
        UsagePeriod = reader.GetString(o + 14),
        Period = reader.GetString(o + 15),
        ChargeTime = Timestamps.FromMicros(reader.GetInt64(o + 16)),
    };
}
