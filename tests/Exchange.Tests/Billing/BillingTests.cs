using Exchange.Server.Billing;
using Exchange.Server.Storage;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Tests.Billing.BillingFixture;

namespace Exchange.Tests.Billing;

/// <summary>
/// Metering and settlement: every chargeable event is charged once, in the ledger and the log,
/// by the rule of the offer the grant accepted; a statement lists the charges and recomputes, on
/// the consumer's side, from its receipts and the log; periods close, late usage carries over as
/// an adjustment, and the exchange settles what each participant owes or earned net of its fee.
/// </summary>
public sealed class BillingTests(BillingGateway gateway) : SharedGatewayTests<BillingGateway>(gateway)
{
    [Fact]
    public async Task Two_downloads_under_a_per_gib_offer_one_cut_by_revocation_bill_one_and_both_statements_verify()
    {
        var seller = Participant.Acme.Fresh();
        var buyer = Participant.Initech.Fresh();
        using var acme = Gateway.As(seller);
        using var initech = Gateway.As(buyer);
        const int size = 64 * 65536;
        var (dataset, perGib) = await OfferedAsync(acme, Offer(OfferKind.PerGib, OnePerByte), size);
        var monthly = Offer(OfferKind.Subscription, 5000);
        monthly.PeriodMonths = 1;
        await acme.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = dataset.Name, Offer = monthly });

        var quote = await initech.Pricing.QuoteAccessAsync(new QuoteAccessRequest { Offer = perGib.Name });
        Assert.Equal(size, quote.Total.AmountMinor);
        var grant = await BuyAsync(acme, initech, dataset, perGib);

        var (header, _, trailer) = await initech.DownloadAllAsync(grant.Name);
        // The second is cut by revocation: the offer charges a cut transfer nothing (its default).
        using (var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" }))
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            var cut = call.ResponseStream.Current.Header.Transfer;
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "contract ended" });
            Assert.Equal(TransferState.Failed, (await initech.WaitForTransferAsync(cut, TransferState.Failed)).State);
        }

        var paid = await StatementAsync(initech, buyer.Id);
        var line = Assert.Single(paid.Lines);
        Assert.Equal(StatementRole.Consumer, line.Role);
        Assert.Equal($"usageRecords/transfer-{header.Transfer["transfers/".Length..]}", line.Usage.Name);
        Assert.Equal(header.Transfer, line.Usage.Resource);
        Assert.Equal(trailer.Receipt.Event.Index, line.Usage.EventIndex);
        Assert.Equal(size, line.Usage.Units);
        Assert.Equal(size, line.Usage.Amount.AmountMinor);
        Assert.Equal(OfferCharges.Fee(size, 250), line.Usage.FeeMinor);
        Assert.False(line.Adjustment);
        Assert.Equal(new StatementTotal { Currency = "EUR", ChargesMinor = size, NetMinor = -size }, Assert.Single(paid.Totals));

        var earned = await StatementAsync(acme, seller.Id);
        Assert.Equal(StatementRole.Provider, Assert.Single(earned.Lines).Role);
        var fee = OfferCharges.Fee(size, 250);
        Assert.Equal(new StatementTotal { Currency = "EUR", EarningsMinor = size - fee, FeesMinor = fee, NetMinor = size - fee }, Assert.Single(earned.Totals));

        foreach (var (client, who) in new[] { (initech, buyer.Id), (acme, seller.Id) })
        {
            var verified = await AssertVerifiesAsync(client, who, paid.Period);
            Assert.Equal(1, verified.ChargesRecomputed);
            Assert.Equal(1, verified.ReceiptsChecked);
        }

        Assert.All((await BalancesAsync(Gateway)).Values, sum => Assert.Equal(0, sum));
    }

    [Fact]
    public async Task Free_units_and_the_cap_count_per_grant_and_month_and_a_replayed_event_is_charged_once()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        var perTransfer = Offer(OfferKind.PerTransfer, 100);
        perTransfer.FreeUnits = 1;
        perTransfer.CapMinorPerPeriod = 250;
        var (dataset, offer) = await OfferedAsync(acme, perTransfer);
        var grant = await BuyAsync(acme, initech, dataset, offer);
        for (var i = 0; i < 5; i++)
        {
            await initech.DownloadAllAsync(grant.Name);
        }

        var statement = await StatementAsync(initech, buyer.Id);
        Assert.Equal([0L, 100, 100, 50, 0], statement.Lines.Select(l => l.Usage.Amount.AmountMinor));
        Assert.Equal(250, Assert.Single(statement.Totals).ChargesMinor);

        // The event replayed (a retried completion, a second gateway finishing the same stream): no second charge.
        var first = statement.Lines[1].Usage;
        var meter = Gateway.Services.GetRequiredService<Meter>();
        var database = Gateway.Services.GetRequiredService<Database>();
        var stored = await Gateway.Services.GetRequiredService<Server.Access.AccessStore>()
            .GetGrantAsync(new Server.Access.GrantId(grant.Name["grants/".Length..]), DateTimeOffset.UtcNow, CancellationToken.None);
        await database.WriteAsync(unit =>
        {
            meter.TransferEnded(unit, stored!, first.Resource, 1, completed: true, 65536, first.EventIndex);
            return 0;
        }, CancellationToken.None);
        Assert.Equal(5, (await StatementAsync(initech, buyer.Id)).LineCount);
        Assert.All((await UsageCountsAsync(Gateway)).Values, count => Assert.Equal(1, count));

        await AssertVerifiesAsync(initech, buyer.Id, statement.Period);
    }

    [Fact]
    public async Task An_offer_that_charges_cut_transfers_charges_each_byte_sent_once_across_a_resume()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        const int size = 64 * 65536;
        var offer = Offer(OfferKind.PerGib, OnePerByte);
        offer.PartialTransferCharge = PartialTransferCharge.BytesSent;
        var (dataset, made) = await OfferedAsync(acme, offer, size);
        var grant = await BuyAsync(acme, initech, dataset, made);

        string transfer;
        using (var stop = new CancellationTokenSource())
        using (var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" }, cancellationToken: stop.Token))
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            transfer = call.ResponseStream.Current.Header.Transfer;
            // Several chunks in: the bytes a transfer counts as sent are those whose writes completed.
            for (var i = 0; i < 6; i++)
            {
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            }

            await stop.CancelAsync();
        }

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.InRange(failed.BytesSent, 1, size - 1);
        var cut = Assert.Single((await StatementAsync(initech, buyer.Id)).Lines).Usage;
        Assert.Equal(failed.BytesSent, cut.Units);
        Assert.EndsWith("-1", cut.Name, StringComparison.Ordinal);

        await initech.DownloadAllAsync(grant.Name, transfer: transfer, offset: failed.BytesSent);
        var statement = await StatementAsync(initech, buyer.Id);
        Assert.Equal([failed.BytesSent, size - failed.BytesSent], statement.Lines.Select(l => l.Usage.Units));
        Assert.Equal(size, Assert.Single(statement.Totals).ChargesMinor);
        await AssertVerifiesAsync(initech, buyer.Id, statement.Period);
    }

    [Fact]
    public async Task A_query_under_a_per_query_offer_is_charged_once_by_its_receipt()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        var dataset = await Compute.ComputeFixture.PurchasesAsync(acme);
        var offer = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = dataset.Name, Offer = Offer(OfferKind.PerQuery, 40) })).Offer;
        var grant = await BuyAsync(acme, initech, dataset, offer, new Terms { Kind = GrantKind.Compute, Analysis = Compute.ComputeFixture.Rule() });
        var answer = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT city, COUNT(*) FROM data GROUP BY city" });

        var line = Assert.Single((await StatementAsync(initech, buyer.Id)).Lines).Usage;
        Assert.Equal($"usageRecords/query-{answer.Receipt.Event.Index}", line.Name);
        Assert.Equal(40, line.Amount.AmountMinor);
        await AssertVerifiesAsync(initech, buyer.Id, line.Period);
    }

    [Fact]
    public async Task Verify_finds_a_statement_the_log_does_not_bear_out()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        var (dataset, offer) = await OfferedAsync(acme, Offer(OfferKind.PerTransfer, 700));
        var grant = await BuyAsync(acme, initech, dataset, offer);
        await initech.DownloadAllAsync(grant.Name);
        await initech.DownloadAllAsync(grant.Name);
        var lines = (await StatementAsync(initech, buyer.Id)).Lines;

        // A gateway that bills more than it logged, and one that charged a transfer without telling the statement.
        var database = Gateway.Services.GetRequiredService<Database>();
        await database.WriteAsync(unit =>
        {
            unit.Command("UPDATE usage_records SET amount_minor = 900 WHERE id = @id").With("@id", lines[0].Usage.Name["usageRecords/".Length..]).ExecuteNonQuery();
            return unit.Command("UPDATE usage_records SET period = '2001-01' WHERE id = @id").With("@id", lines[1].Usage.Name["usageRecords/".Length..]).ExecuteNonQuery();
        }, CancellationToken.None);

        var verified = await initech.VerifyStatementAsync(buyer.Id, lines[0].Usage.Period);
        Assert.False(verified.Succeeded);
        Assert.Contains(verified.Differences, d => d.Contains($"line {lines[0].Usage.Name} differs from its charge event", StringComparison.Ordinal));
        Assert.Contains(verified.Differences, d => d.Contains($"charge event {lines[1].Usage.ChargeIndex} ({lines[1].Usage.Name}) is missing", StringComparison.Ordinal));

        var (exit, _, error) = await Gateway.RunCliAsync(buyer, "billing", "verify", "--period", lines[0].Usage.Period,
            "--trusted", Path.Combine(Gateway.DataDirectory, $"trusted-{buyer.Id}.json"));
        Assert.Equal(1, exit);
        Assert.Contains("DIFFERS: line", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_charge_is_corrected_only_by_an_operators_reversal_which_the_statement_and_its_verification_carry()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        using var ops = Gateway.As(Participant.Operator);
        var (dataset, offer) = await OfferedAsync(acme, Offer(OfferKind.PerTransfer, 700));
        var grant = await BuyAsync(acme, initech, dataset, offer);
        await initech.DownloadAllAsync(grant.Name);
        await initech.DownloadAllAsync(grant.Name);
        var charged = (await StatementAsync(initech, buyer.Id)).Lines[1].Usage;

        await Rpc.FailsWith(StatusCode.PermissionDenied,
            () => acme.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = charged.Name, Reason = "generous" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.InvalidArgument, () => ops.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = charged.Name }).ResponseAsync);
        var reversal = (await ops.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = charged.Name, Reason = "charged during an outage" })).Reversal;
        Assert.Equal(charged.Name.Replace("usageRecords/", "usageRecords/reversal-", StringComparison.Ordinal), reversal.Name);
        Assert.Equal((-1L, -700L, charged.Name, charged.ChargeIndex), (reversal.Units, reversal.Amount.AmountMinor, reversal.Resource, reversal.EventIndex));
        await Rpc.FailsWith(StatusCode.FailedPrecondition,
            () => ops.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = charged.Name, Reason = "again" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.FailedPrecondition,
            () => ops.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = reversal.Name, Reason = "undo" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.NotFound,
            () => ops.Billing.ReverseChargeAsync(new ReverseChargeRequest { Name = "usageRecords/transfer-nosuch", Reason = "x" }).ResponseAsync);

        // The reversed transfer no longer counts towards the month: the next one costs what the second did.
        await initech.DownloadAllAsync(grant.Name);
        var statement = await StatementAsync(initech, buyer.Id);
        Assert.Equal([700L, 700, -700, 700], statement.Lines.Select(l => l.Usage.Amount.AmountMinor));
        Assert.Equal(1400, Assert.Single(statement.Totals).ChargesMinor);
        await AssertVerifiesAsync(initech, buyer.Id, statement.Period);
        Assert.All((await BalancesAsync(Gateway)).Values, sum => Assert.Equal(0, sum));
        Assert.Empty(await UsageTotalsDifferencesAsync(Gateway, grant));
    }

    [Fact]
    public async Task Verify_finds_an_event_charged_twice_and_a_subscription_period_the_offer_never_renews()
    {
        using var acme = Gateway.As(Participant.Acme.Fresh());
        var buyer = Participant.Initech.Fresh();
        using var initech = Gateway.As(buyer);
        var (dataset, perTransfer) = await OfferedAsync(acme, Offer(OfferKind.PerTransfer, 700));
        var monthly = Offer(OfferKind.Subscription, 9000);
        monthly.PeriodMonths = 1;
        var subscription = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = dataset.Name, Offer = monthly })).Offer;
        var grant = await BuyAsync(acme, initech, dataset, perTransfer);
        var (header, _, trailer) = await initech.DownloadAllAsync(grant.Name);
        var (other, _) = await OfferedAsync(acme, Offer(OfferKind.OneOff, 1));
        await acme.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = other.Name, Offer = monthly });
        var once = await BuyAsync(acme, initech, dataset, subscription);

        // A lying meter: the completion charged again under another id, and a second period of a subscription that does not renew.
        var meter = Gateway.Services.GetRequiredService<Meter>();
        var access = Gateway.Services.GetRequiredService<Server.Access.AccessStore>();
        var stored = await access.GetGrantAsync(new Server.Access.GrantId(grant.Name["grants/".Length..]), DateTimeOffset.UtcNow, CancellationToken.None);
        var cuts = stored!.Terms.Offer!.Clone();
        cuts.Kind = OfferKind.PerGib;
        cuts.PartialTransferCharge = PartialTransferCharge.BytesSent;
        var renewing = await access.GetGrantAsync(new Server.Access.GrantId(once.Name["grants/".Length..]), DateTimeOffset.UtcNow, CancellationToken.None);
        await Gateway.Services.GetRequiredService<Database>().WriteAsync(unit =>
        {
            meter.TransferEnded(unit, stored with { Terms = stored.Terms with { Offer = cuts } }, header.Transfer, 1, completed: true, 10, trailer.Receipt.Event.Index);
            meter.Renewed(unit, renewing! with { CreateTime = renewing.CreateTime.AddMonths(-1) }, 2, 0);
            return 0;
        }, CancellationToken.None);

        var verified = await initech.VerifyStatementAsync(buyer.Id, Month(DateTimeOffset.UtcNow));
        Assert.Contains(verified.Differences, d => d.StartsWith($"usageRecords/transfer-{header.Transfer["transfers/".Length..]}-1 (event", StringComparison.Ordinal));
        Assert.Contains(verified.Differences, d => d.StartsWith($"usageRecords/subscription-{once.Name["grants/".Length..]}-2 (event", StringComparison.Ordinal));
        Assert.Equal(2, verified.Differences.Count);
    }

    [Fact]
    public async Task Statements_are_their_participants_and_bad_names_are_refused_with_a_clear_status()
    {
        using var initech = Gateway.As(Participant.Initech);
        using var auditor = Gateway.As(Participant.Auditor);
        var month = Month(DateTimeOffset.UtcNow);
        var other = await Rpc.FailsWith(StatusCode.PermissionDenied,
            () => initech.Billing.GetStatementAsync(new GetStatementRequest { Name = $"participants/umbrella/statements/{month}" }).ResponseAsync);
        Assert.Contains("umbrella's statement", other.Status.Detail, StringComparison.Ordinal);
        await auditor.Billing.GetStatementAsync(new GetStatementRequest { Name = $"participants/umbrella/statements/{month}" });

        await Rpc.FailsWith(StatusCode.InvalidArgument,
            () => initech.Billing.GetStatementAsync(new GetStatementRequest { Name = "participants/initech/statements/2026-13" }).ResponseAsync);
        await Rpc.FailsWith(StatusCode.InvalidArgument,
            () => initech.Billing.GetStatementAsync(new GetStatementRequest { Name = "participants/initech/statements/december" }).ResponseAsync);
        using var ops = Gateway.As(Participant.Operator);
        var unreferenced = await Rpc.FailsWith(StatusCode.InvalidArgument,
            () => ops.Billing.MarkSettlementPaidAsync(new MarkSettlementPaidRequest { Name = "billingPeriods/2001-01/settlements/1" }).ResponseAsync);
        Assert.Contains("payment_reference is required", unreferenced.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_a_period_settles_through_the_exchange_and_later_usage_of_it_is_an_adjustment_in_the_next()
    {
        using var gateway = ExchangeFactory.With(("Exchange:Billing:FeeBasisPoints", "1000"));
        using var acme = gateway.As(Participant.Acme);
        using var initech = gateway.As(Participant.Initech);
        using var umbrella = gateway.As(Participant.Umbrella);
        using var ops = gateway.As(Participant.Operator);
        var (sold, oneOff) = await OfferedAsync(acme, Offer(OfferKind.OneOff, 10_000));
        await BuyAsync(acme, initech, sold, oneOff);
        var (metered, perTransfer) = await OfferedAsync(acme, Offer(OfferKind.PerTransfer, 300));
        var grant = await BuyAsync(acme, umbrella, metered, perTransfer);
        await umbrella.DownloadAllAsync(grant.Name);

        var now = DateTimeOffset.UtcNow;
        var period = $"billingPeriods/{Month(now)}";
        await Rpc.FailsWith(StatusCode.PermissionDenied, () => acme.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = period }).ResponseAsync);
        var closed = await ops.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = period });
        Assert.Equal(BillingPeriodState.Closed, closed.Period.State);
        Assert.Equal("ops", closed.Period.ClosedBy);
        Assert.Equal(
            ["acme: exchange:clearing pays 9270 EUR", "initech: pays exchange:clearing 10000 EUR", "umbrella: pays exchange:clearing 300 EUR"],
            closed.Settlements.Select(s => s.Payer == "exchange:clearing" ? $"{s.Payee}: exchange:clearing pays {s.Amount.AmountMinor} {s.Amount.Currency}"
                : $"{s.Payer}: pays {s.Payee} {s.Amount.AmountMinor} {s.Amount.Currency}"));
        Assert.All(closed.Settlements, s => Assert.Equal(SettlementState.Owed, s.State));
        await Rpc.FailsWith(StatusCode.FailedPrecondition, () => ops.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = period }).ResponseAsync);
        var next = $"billingPeriods/{Month(now.AddMonths(1))}";
        var early = await Rpc.FailsWith(StatusCode.FailedPrecondition,
            () => ops.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = next }).ResponseAsync);
        Assert.Contains("has not begun", early.Status.Detail, StringComparison.Ordinal);

        // Usage of the closed month, charged now: it counts in the next period as an adjustment, never dropped.
        await umbrella.DownloadAllAsync(grant.Name);
        var later = await StatementAsync(umbrella, "umbrella", Month(now.AddMonths(1)));
        var adjustment = Assert.Single(later.Lines);
        Assert.True(adjustment.Adjustment);
        Assert.Equal(Month(now), adjustment.Usage.UsagePeriod);
        Assert.Single((await StatementAsync(umbrella, "umbrella", Month(now))).Lines);
        Assert.Equal(BillingPeriodState.Closed, (await StatementAsync(umbrella, "umbrella", Month(now))).PeriodState);
        foreach (var month in new[] { Month(now), Month(now.AddMonths(1)) })
        {
            await AssertVerifiesAsync(umbrella, "umbrella", month);
        }

        // Only the operator records a payment, once, and the log says who and with which reference.
        var owed = closed.Settlements[0].Name;
        await Rpc.FailsWith(StatusCode.PermissionDenied,
            () => acme.Billing.MarkSettlementPaidAsync(new MarkSettlementPaidRequest { Name = owed, PaymentReference = "self-paid" }).ResponseAsync);
        var paid = (await ops.Billing.MarkSettlementPaidAsync(new MarkSettlementPaidRequest { Name = owed, PaymentReference = "SEPA-2026-0042" })).Settlement;
        Assert.Equal(SettlementState.Paid, paid.State);
        Assert.Equal("ops", paid.PaidBy);
        await Rpc.FailsWith(StatusCode.FailedPrecondition,
            () => ops.Billing.MarkSettlementPaidAsync(new MarkSettlementPaidRequest { Name = owed, PaymentReference = "again" }).ResponseAsync);
        using var auditor = gateway.As(Participant.Auditor);
        var logged = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = "billing.paid" })).Events;
        Assert.Equal(["ops SUCCESS SEPA-2026-0042", "acme DENIED "], logged.Select(e =>
            $"{e.Actor} {e.Outcome.ToString().ToUpperInvariant()} {e.Details.FirstOrDefault(d => d.Key == "payment_reference")?.Value}").Reverse());
        Assert.Equal(["acme"], (await acme.Billing.ListSettlementsAsync(new ListSettlementsRequest { Parent = period })).Settlements.Select(s => s.Payee));
        Assert.All((await BalancesAsync(gateway)).Values, sum => Assert.Equal(0, sum));
    }

    [Fact]
    public async Task A_subscription_is_charged_as_each_period_starts_until_its_grant_is_revoked_and_periods_close_at_their_cut_off()
    {
        var start = new DateTimeOffset(2026, 1, 20, 12, 0, 0, TimeSpan.Zero);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(start);
        // Checkpoints hourly on this clock: a periodic timer on a fake clock fires once per period it is advanced past.
        using var gateway = ExchangeFactory.With(("Exchange:Audit:CheckpointInterval", "01:00:00"));
        gateway.Clock = clock;
        var subscription = MonthlySubscription(5000);
        Grant grant;
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            var (dataset, offer) = await OfferedAsync(acme, subscription);
            grant = await BuyAsync(acme, initech, dataset, offer);
        }

        var sweeper = gateway.Services.GetRequiredService<BillingSweeper>();
        foreach (var days in new[] { 32, 29 })
        {
            clock.Advance(TimeSpan.FromDays(days));
            await sweeper.SweepAsync(CancellationToken.None);
        }

        using (var acme = gateway.OnClock(Participant.Acme))
        {
            await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "cancelled" });
        }

        clock.Advance(TimeSpan.FromDays(90));
        await sweeper.SweepAsync(CancellationToken.None);
        await sweeper.SweepAsync(CancellationToken.None);
        // A checkpoint over all of it, for the statement's verification.
        clock.Advance(TimeSpan.FromHours(1));

        using var buyer = gateway.OnClock(Participant.Initech);
        var id = grant.Name["grants/".Length..];
        var charged = new List<string>();
        foreach (var month in new[] { "2026-01", "2026-02", "2026-03", "2026-04", "2026-05" })
        {
            var statement = await StatementAsync(buyer, "initech", month);
            charged.AddRange(statement.Lines.Select(l => $"{l.Usage.Name} {l.Usage.UsagePeriod} {l.Usage.Amount.AmountMinor}"));
            // Every period with usage past its cut-off (its month's end and three days) was closed by the gateway; one without has nothing to settle.
            Assert.Equal(statement.Lines.Count > 0 ? BillingPeriodState.Closed : BillingPeriodState.Open, statement.PeriodState);
        }

        Assert.Equal([$"usageRecords/subscription-{id}-1 2026-01 5000", $"usageRecords/subscription-{id}-2 2026-02 5000",
            $"usageRecords/subscription-{id}-3 2026-03 5000"], charged);
        await AssertVerifiesAsync(buyer, "initech", "2026-02");
        Assert.Equal(AuditActionsGateway, (await buyer.Billing.GetBillingPeriodAsync(new GetBillingPeriodRequest { Name = "billingPeriods/2026-02" })).Period.ClosedBy);
    }

    [Fact]
    public async Task A_subscription_stops_renewing_once_its_grant_has_used_all_of_its_transfers()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 20, 12, 0, 0, TimeSpan.Zero));
        using var gateway = ExchangeFactory.With(("Exchange:Audit:CheckpointInterval", "01:00:00"));
        gateway.Clock = clock;
        var subscription = MonthlySubscription(5000);
        var sweeper = gateway.Services.GetRequiredService<BillingSweeper>();
        Grant grant;
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            var (dataset, offer) = await OfferedAsync(acme, subscription);
            grant = await BuyAsync(acme, initech, dataset, offer, new Terms { Purposes = { "research" }, MaxTransfers = 1 });
        }

        // The second period starts while the grant still has its transfer: it is charged. Then the transfer is used.
        clock.Advance(TimeSpan.FromDays(32));
        await sweeper.SweepAsync(CancellationToken.None);
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            await initech.DownloadAllAsync(grant.Name);
            Assert.Equal(GrantState.Exhausted, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.State);
        }

        clock.Advance(TimeSpan.FromDays(90));
        await sweeper.SweepAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));

        using var buyer = gateway.OnClock(Participant.Initech);
        var id = grant.Name["grants/".Length..];
        var charged = new List<string>();
        foreach (var month in new[] { "2026-01", "2026-02", "2026-03", "2026-04", "2026-05" })
        {
            charged.AddRange((await StatementAsync(buyer, "initech", month)).Lines.Select(l => l.Usage.Name));
        }

        Assert.Equal([$"usageRecords/subscription-{id}-1", $"usageRecords/subscription-{id}-2"], charged);
        await AssertVerifiesAsync(buyer, "initech", "2026-02");

        // A gateway that charged a period after the last transfer: the consumer's verification finds it from the log alone.
        await AssertAPeriodChargedAfterTheEndIsFoundAsync(gateway, clock, grant, ["2026-03", "2026-04", "2026-05"]);
    }

    [Fact]
    public async Task A_consumer_who_cancels_a_subscriptions_renewal_pays_for_the_period_under_way_and_no_more()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 20, 12, 0, 0, TimeSpan.Zero));
        using var gateway = ExchangeFactory.With(("Exchange:Audit:CheckpointInterval", "01:00:00"));
        gateway.Clock = clock;
        var subscription = MonthlySubscription(5000);
        var sweeper = gateway.Services.GetRequiredService<BillingSweeper>();
        Grant grant;
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            var (dataset, offer) = await OfferedAsync(acme, subscription);
            grant = await BuyAsync(acme, initech, dataset, offer);

            // A grant whose own terms end it within its first period has no renewal to cancel.
            using var umbrella = gateway.OnClock(Participant.Umbrella);
            var brief = await BuyAsync(acme, umbrella, dataset, offer,
                new Terms { Purposes = { "research" }, ExpireTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(clock.GetUtcNow().AddDays(10)) });
            var once = await Rpc.FailsWith(StatusCode.FailedPrecondition,
                () => umbrella.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = brief.Name }).ResponseAsync);
            Assert.Contains("renews no more: its terms end it at 2026-01-30T12:00:00", once.Status.Detail, StringComparison.Ordinal);
        }

        // Period 2 (from 20 February) has started, and the sweeper has not charged it yet: the cancellation charges it, and no more.
        clock.Advance(TimeSpan.FromDays(41));
        var periodTwoEnd = new DateTimeOffset(2026, 3, 20, 12, 0, 0, TimeSpan.Zero);
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            var refused = await Rpc.FailsWith(StatusCode.PermissionDenied,
                () => acme.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = grant.Name }).ResponseAsync);
            Assert.Contains("Only the consumer", refused.Status.Detail, StringComparison.Ordinal);
            // The consumer's own participant without the consumer role (an auditor's token of its, say) changes nothing.
            using (var readOnly = gateway.OnClock(new Participant(Participant.Initech.Id, "auditor")))
            {
                await Rpc.FailsWith(StatusCode.PermissionDenied,
                    () => readOnly.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = grant.Name }).ResponseAsync);
            }

            var response = await initech.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = grant.Name });
            var cancelled = response.Grant;
            Assert.Equal(("grant.cancel_renewal", grant.Name), (response.Receipt.Event.Action, response.Receipt.Event.Resource));
            Assert.Equal(clock.GetUtcNow(), cancelled.RenewalCancelTime.ToDateTimeOffset());
            Assert.Equal(periodTwoEnd, cancelled.Terms.ExpireTime.ToDateTimeOffset());
            Assert.Equal(GrantState.Active, cancelled.State);
            // A retry changes nothing, and logs nothing more.
            var retried = await initech.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = grant.Name });
            Assert.Equal((cancelled, response.Receipt.Event), (retried.Grant, retried.Receipt.Event));
            var logged = (await initech.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = "grant.cancel_renewal", Dataset = grant.Dataset }))
                .Events.Select(e => AuditRecord.Parser.ParseFrom(e.Leaf)).ToList();
            Assert.Equal(["acme DENIED ", "initech DENIED ", "initech SUCCESS 2026-03-20T12:00:00.0000000+00:00"],
                logged.Select(r => $"{r.Actor} {r.Outcome.ToString().ToUpperInvariant()} {r.Details.FirstOrDefault(d => d.Key == "end_time")?.Value}"));
        }

        clock.Advance(TimeSpan.FromDays(90));
        await sweeper.SweepAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        using var buyer = gateway.OnClock(Participant.Initech);
        Assert.Equal(GrantState.Expired, (await buyer.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.State);
        var expired = await Rpc.FailsWith(StatusCode.PermissionDenied, () => buyer.DownloadAllAsync(grant.Name));
        Assert.Contains("expired", expired.Status.Detail, StringComparison.Ordinal);

        var id = grant.Name["grants/".Length..];
        var charged = new List<string>();
        foreach (var month in new[] { "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06" })
        {
            charged.AddRange((await StatementAsync(buyer, "initech", month)).Lines.Select(l => l.Usage.Name));
        }

        Assert.Equal([$"usageRecords/subscription-{id}-1", $"usageRecords/subscription-{id}-2"], charged);
        await AssertVerifiesAsync(buyer, "initech", "2026-02");

        // A gateway that charged period 3 all the same: the consumer's verification finds it from the log alone.
        await AssertAPeriodChargedAfterTheEndIsFoundAsync(gateway, clock, grant, ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]);

        // A gateway whose grant shows the renewal running though the log has the consumer's cancellation.
        await gateway.Services.GetRequiredService<Database>().WriteAsync(unit => unit.Command("UPDATE grants SET renewal_cancel_time = NULL WHERE id = @id")
            .With("@id", id).ExecuteNonQuery(), CancellationToken.None);
        using var checking = gateway.OnClock(Participant.Initech);
        var hidden = await checking.VerifyStatementAsync("initech", (await StatementAsync(checking, "initech", "2026-02")).Period);
        Assert.Contains($"{grant.Name} shows its renewal running, but its consumer cancelled it", Assert.Single(hidden.Differences), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_renewal_the_consumer_did_not_log_is_found_by_its_verification()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 20, 12, 0, 0, TimeSpan.Zero));
        using var gateway = ExchangeFactory.With(("Exchange:Audit:CheckpointInterval", "01:00:00"));
        gateway.Clock = clock;
        Grant grant;
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        {
            var (dataset, offer) = await OfferedAsync(acme, MonthlySubscription(5000));
            grant = await BuyAsync(acme, initech, dataset, offer);
        }

        // The gateway ends the consumer's renewal in its name and logs the provider as having done so, with an end of its choosing.
        var id = grant.Name["grants/".Length..];
        await gateway.Services.GetRequiredService<Database>().WriteAsync(unit =>
        {
            unit.Command("UPDATE grants SET renewal_cancel_time = @now WHERE id = @id").With("@now", Server.Storage.Timestamps.ToMicros(unit.Now))
                .With("@id", id).ExecuteNonQuery();
            return unit.Record(new AuditEntry("acme", "grant.cancel_renewal", grant.Name, Outcome.Success, grant.Dataset, "initech", "acme",
                new Dictionary<string, string> { ["end_time"] = "2026-01-25T12:00:00.0000000+00:00" }));
        }, CancellationToken.None);

        clock.Advance(TimeSpan.FromHours(1));
        using var buyer = gateway.OnClock(Participant.Initech);
        var verified = await buyer.VerifyStatementAsync("initech", (await StatementAsync(buyer, "initech", "2026-01")).Period);
        Assert.Equal(2, verified.Differences.Count);
        Assert.Contains($"{grant.Name}'s renewal was cancelled by acme", verified.Differences[0], StringComparison.Ordinal);
        Assert.Contains("not by its consumer initech", verified.Differences[0], StringComparison.Ordinal);
        Assert.Contains($"{grant.Name} shows its renewal cancelled at", verified.Differences[1], StringComparison.Ordinal);
        Assert.Contains("but the log has no cancellation by its consumer", verified.Differences[1], StringComparison.Ordinal);

        // Logged in the consumer's name as well, but with an end other than the period's.
        await gateway.Services.GetRequiredService<Database>().WriteAsync(unit => unit.Record(new AuditEntry("initech", "grant.cancel_renewal", grant.Name,
            Outcome.Success, grant.Dataset, "initech", "acme", new Dictionary<string, string> { ["end_time"] = "2026-01-25T12:00:00.0000000+00:00" })),
            CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        using var again = gateway.OnClock(Participant.Initech);
        verified = await again.VerifyStatementAsync("initech", (await StatementAsync(again, "initech", "2026-01")).Period);
        Assert.Equal(2, verified.Differences.Count);
        Assert.Contains($"{grant.Name}'s renewal was cancelled by acme", verified.Differences[0], StringComparison.Ordinal);
        Assert.Contains("logs an end other than 2026-02-20T12:00:00.0000000+00:00, when the period under way then ended", verified.Differences[1],
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_download_runs_on_past_a_subscription_periods_end_unless_its_renewal_was_cancelled()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 20, 12, 0, 0, TimeSpan.Zero));
        using var gateway = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", "65536"), ("Exchange:Transfers:StallTimeout", "1.00:00:00"));
        gateway.Clock = clock;
        var subscription = MonthlySubscription(5000);
        Grant renewing, cancelled;
        using (var acme = gateway.OnClock(Participant.Acme))
        using (var initech = gateway.OnClock(Participant.Initech))
        using (var umbrella = gateway.OnClock(Participant.Umbrella))
        {
            var (dataset, offer) = await OfferedAsync(acme, subscription, 64 * 65536);
            renewing = await BuyAsync(acme, umbrella, dataset, offer);
            cancelled = await BuyAsync(acme, initech, dataset, offer);
        }

        // A minute before the first period ends, each consumer starts a download and reads a little of it. Then one of them
        // cancels its renewal, which ends its grant with the period: a download already running stops then too. Then the period ends.
        clock.Advance(TimeSpan.FromDays(31) - TimeSpan.FromMinutes(1));
        using var paying = gateway.OnClock(Participant.Umbrella);
        using var leaving = gateway.OnClock(Participant.Initech);
        using var runs = paying.Transfers.Download(new DownloadRequest { Grant = renewing.Name, Purpose = "research" });
        using var stops = leaving.Transfers.Download(new DownloadRequest { Grant = cancelled.Name, Purpose = "research" });
        var transfers = new List<string>();
        foreach (var call in new[] { runs, stops })
        {
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            transfers.Add(call.ResponseStream.Current.Header.Transfer);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        }

        await leaving.Access.CancelGrantRenewalAsync(new CancelGrantRenewalRequest { Name = cancelled.Name });
        clock.Advance(TimeSpan.FromMinutes(2));

        // The cancelled subscription's grant ended with its period, on the gateway's clock, mid-stream: stopped while its
        // consumer reads nothing (read at once, the rest could all arrive while the gateway reads the grant again).
        Assert.Equal("grant expired", (await leaving.WaitForTransferAsync(transfers[1], TransferState.Failed)).FailureReason);
        var error = await Rpc.FailsWith(StatusCode.PermissionDenied, async () =>
        {
            while (await stops.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Contains("expired", error.Status.Detail, StringComparison.Ordinal);

        // The renewing one runs on to its end, receipt and all.
        long received = 0;
        DownloadTrailer? trailer = null;
        while (await runs.ResponseStream.MoveNext(CancellationToken.None))
        {
            received += runs.ResponseStream.Current.Chunk?.Data.Length ?? 0;
            trailer = runs.ResponseStream.Current.Trailer ?? trailer;
        }

        Assert.Equal(64 * 65536 - 65536, received);
        Assert.NotNull(trailer?.Receipt);
    }

    /// <summary>
    /// Has the gateway charge period 3 of initech's <paramref name="grant"/>, which ended before it, behind its own rules; the
    /// consumer's verification of the statement that carries it (in one of <paramref name="months"/>) must report that charge alone.
    /// </summary>
    private static async Task AssertAPeriodChargedAfterTheEndIsFoundAsync(ExchangeFactory gateway, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock,
        Grant grant, string[] months)
    {
        var id = grant.Name["grants/".Length..];
        using (var buyer = gateway.OnClock(Participant.Initech))
        {
            var approval = (await StatementAsync(buyer, "initech", "2026-01")).Lines[0].Usage.EventIndex;
            var stored = await gateway.Services.GetRequiredService<Server.Access.AccessStore>()
                .GetGrantAsync(new Server.Access.GrantId(id), clock.GetUtcNow(), CancellationToken.None);
            await gateway.Services.GetRequiredService<Database>().WriteAsync(unit =>
            {
                gateway.Services.GetRequiredService<Meter>().Renewed(unit, stored!, 3, approval);
                return 0;
            }, CancellationToken.None);
        }

        // A checkpoint over the forged charge, for the verification.
        clock.Advance(TimeSpan.FromHours(1));
        using var later = gateway.OnClock(Participant.Initech);
        var lines = new List<StatementLine>();
        foreach (var month in months)
        {
            lines.AddRange((await StatementAsync(later, "initech", month)).Lines);
        }

        var period = lines.Single(l => l.Usage.Name == $"usageRecords/subscription-{id}-3").Usage.Period;
        var verified = await later.VerifyStatementAsync("initech", period);
        Assert.Equal($"usageRecords/subscription-{id}-3", Assert.Single(verified.Differences).Split(' ')[0]);
        Assert.Contains($"which starts after {grant.Name} ended", verified.Differences[0], StringComparison.Ordinal);
    }

    private const string AuditActionsGateway = "exchange:gateway";
}
