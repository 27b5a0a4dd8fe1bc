using System.Globalization;
using System.Security.Cryptography;
using Exchange.Client.Billing;
using Exchange.Client.Transfers;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Client;

public sealed partial class ExchangeClient
{
    /// <summary>
    /// Checks <paramref name="participant"/>'s statement for <paramref name="period"/> against the log and the
    /// participant's own receipts, trusting neither the statement nor the gateway's arithmetic: every line must be a
    /// <c>billing.charge</c> event that follows from the event it names and the grant's offer (the offer the approval
    /// logged the SHA-256 of), every charge of the period must be a line, every completed transfer and answered query
    /// the offer prices must be charged once, and every event used must be in a checkpoint signed by the log's trusted key.
    /// </summary>
    /// <param name="participant">Whose statement (the caller's own, unless it is an auditor or operator).</param>
    /// <param name="period">The month, <c>YYYY-MM</c>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public async Task<StatementVerification> VerifyStatementAsync(string participant, string period, CancellationToken cancellationToken = default)
    {
        var statement = await GetStatementAsync(participant, period, cancellationToken).ConfigureAwait(false);
        var differences = new List<string>();

        // Every charge the caller may read that concerns the participant, from the leaves the log hashed.
        var charges = new List<LoggedCharge>();
        await foreach (var e in EnumerateAuditEventsAsync(new ListAuditEventsRequest { Action = ChargeRecomputation.ChargeAction, PageSize = 1000 },
            cancellationToken).ConfigureAwait(false))
        {
            var charge = new LoggedCharge(e);
            if (charge.Record.Outcome == AuditOutcome.Success && (charge.Record.Subject == participant || charge.Detail("provider") == participant))
            {
                charges.Add(charge);
            }
        }

        // A charge depends on the month's earlier ones: the months of the period's charges (the statement's lines, and any
        // it leaves out) are recomputed whole, and with them every month a charged transfer was charged in.
        var months = statement.Lines.Select(l => l.Usage.UsagePeriod).Append(period)
            .Concat(charges.Where(c => c.Detail("period") == period).Select(c => c.Detail("usage_period"))).ToHashSet(StringComparer.Ordinal);
        List<LoggedCharge> recomputed;
        while (true)
        {
            recomputed = charges.Where(c => months.Contains(c.Detail("usage_period"))).ToList();
            var transfers = recomputed.Select(c => c.Detail("resource")).Where(r => r.StartsWith("transfers/", StringComparison.Ordinal))
                .ToHashSet(StringComparer.Ordinal);
            var more = charges.Where(c => transfers.Contains(c.Detail("resource"))).Select(c => c.Detail("usage_period")).Where(m => !months.Contains(m)).ToList();
            if (more.Count == 0)
            {
                break;
            }

            months.UnionWith(more);
        }
        var grants = new Dictionary<string, GrantPrice?>(StringComparer.Ordinal);
        var logs = new Dictionary<(string Dataset, string Action), List<(AuditEvent Event, AuditRecord Record)>>();
        var proven = new Dictionary<long, AuditEvent>();
        foreach (var charge in recomputed)
        {
            proven[charge.Index] = charge.Event;
            await GrantPriceAsync(charge.Detail("grant"), grants, proven, differences, logs, cancellationToken)
                .ConfigureAwait(false);
        }

        var events = new Dictionary<long, AuditRecord>();
        foreach (var charge in recomputed)
        {
            if (long.TryParse(charge.Detail("event"), NumberStyles.None, CultureInfo.InvariantCulture, out var cause) &&
                await EventAtAsync(cause, cancellationToken).ConfigureAwait(false) is { } e)
            {
                proven[cause] = e;
                events[cause] = AuditRecord.Parser.ParseFrom(e.Leaf);
            }
        }

        var known = grants.Where(g => g.Value is not null).ToDictionary(g => g.Key, g => g.Value!, StringComparer.Ordinal);
        differences.AddRange(ChargeRecomputation.Problems(recomputed.Select(c => (c.Index, c.Record)), events, known));
        differences.AddRange(LineDifferences(statement, participant, period, recomputed.Select(c => (c.Index, c.Record))));

        // The participant's own receipts in the period: each one an offer prices must have been charged.
        var receipts = 0;
        var start = DateTimeOffset.ParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var chargedEvents = charges.Select(c => c.Detail("event")).ToHashSet(StringComparer.Ordinal);
        foreach (var action in new[] { ReceiptVerifier.CompletedAction, ReceiptVerifier.QueryAction })
        {
            await foreach (var e in EnumerateAuditEventsAsync(new ListAuditEventsRequest
            {
                Action = action,
                StartTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(start),
                EndTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(start.AddMonths(1)),
                PageSize = 1000,
            }, cancellationToken).ConfigureAwait(false))
            {
                var record = AuditRecord.Parser.ParseFrom(e.Leaf);
                var grantName = action == ReceiptVerifier.QueryAction ? record.Resource : ChargeRecomputation.Details(record).GetValueOrDefault("grant", "");
                if (record.Outcome != AuditOutcome.Success ||
                    await GrantPriceAsync(grantName, grants, proven, differences, logs, cancellationToken).ConfigureAwait(false) is not { } grant ||
                    (grant.Consumer != participant && grant.Provider != participant))
                {
                    continue;
                }

                receipts++;
                if (grant.Offer is { Kind: OfferKind.PerGib, PartialTransferCharge: PartialTransferCharge.BytesSent })
                {
                    // Charged stream by stream: all of them together, the bytes the completed transfer sent.
                    var sent = ChargeRecomputation.Details(record).GetValueOrDefault("bytes_sent", "");
                    var charged = charges.Where(c => c.Detail("resource") == record.Resource)
                        .Sum(c => long.TryParse(c.Detail("units"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var u) ? u : 0);
                    if (sent != charged.ToString(CultureInfo.InvariantCulture))
                    {
                        proven[e.Index] = e;
                        differences.Add($"{record.Resource} (event {e.Index}) sent {sent} bytes, but {charged} were charged for it");
                    }

                    continue;
                }

                var priced = action == ReceiptVerifier.QueryAction ? grant.Offer.Kind == OfferKind.PerQuery : grant.Offer.Kind is OfferKind.PerTransfer or OfferKind.PerGib;
                if (priced && !chargedEvents.Contains(e.Index.ToString(CultureInfo.InvariantCulture)))
                {
                    proven[e.Index] = e;
                    differences.Add($"{record.Resource} (event {e.Index}, under {grant.Grant}) is priced by {grant.Offer.Name} but was not charged");
                }
            }
        }

        var size = await ProveAsync(proven.Values, differences, cancellationToken).ConfigureAwait(false);
        return new StatementVerification
        {
            Statement = statement,
            Differences = differences,
            ChargesRecomputed = recomputed.Count,
            ReceiptsChecked = receipts,
            CheckpointSize = size,
        };
    }

    /// <summary>The whole of <paramref name="participant"/>'s statement for <paramref name="period"/> (<c>YYYY-MM</c>): every page's lines, with the period's totals.</summary>
    /// <param name="participant">Whose statement (the caller's own, unless it is an auditor or operator).</param>
    /// <param name="period">The month, <c>YYYY-MM</c>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    public async Task<Statement> GetStatementAsync(string participant, string period, CancellationToken cancellationToken = default)
    {
        var request = new GetStatementRequest { Name = $"participants/{participant}/statements/{period}", PageSize = 1000 };
        Statement? whole = null;
        do
        {
            var page = await Billing.GetStatementAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (whole is null)
            {
                whole = page.Statement;
            }
            else
            {
                whole.Lines.Add(page.Statement.Lines);
            }

            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return whole;
    }

    /// <summary>
    /// The grant's parties and accepted offer, once its approval in the log is found and names the SHA-256 of that very
    /// offer; null (with the difference said) when the terms cannot be read or do not match what was approved.
    /// </summary>
    private async Task<GrantPrice?> GrantPriceAsync(string name, Dictionary<string, GrantPrice?> grants, Dictionary<long, AuditEvent> proven,
        List<string> differences, Dictionary<(string Dataset, string Action), List<(AuditEvent Event, AuditRecord Record)>> logs,
        CancellationToken cancellationToken)
    {
        if (grants.TryGetValue(name, out var known))
        {
            return known;
        }

        grants[name] = null;
        Grant grant;
        try
        {
            grant = await GetGrantAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException ex)
        {
            differences.Add($"{name} cannot be read ({ex.Status.Detail})");
            return null;
        }

        if (grant.Terms?.Offer is not { } offer)
        {
            return null;
        }

        // The approval says who the parties are, when the grant began and until when it runs, and binds the offer by its SHA-256;
        // a revocation ends it, and so, at the end of a period, does a cancelled renewal. The gateway's own view of the grant only supplies the offer's bytes.
        var logged = (await LoggedAsync(grant.Dataset, "access.approve", logs, cancellationToken).ConfigureAwait(false))
            .Concat(await LoggedAsync(grant.Dataset, "grant.revoke", logs, cancellationToken).ConfigureAwait(false));
        AuditEvent? approval = null;
        AuditRecord? approved = null;
        DateTimeOffset? revoked = null;
        foreach (var (e, record) in logged)
        {
            if (record.Action == "grant.revoke" && record.Resource == name)
            {
                revoked = record.Time?.ToDateTimeOffset();
                proven[e.Index] = e;
            }
            else if (record.Action == "access.approve" && approval is null && ChargeRecomputation.Details(record).GetValueOrDefault("grant") == name)
            {
                (approval, approved) = (e, record);
            }
        }

        if (approval is null || approved is null)
        {
            differences.Add($"{name}'s approval is not in the log the caller may read");
            return null;
        }

        var terms = ChargeRecomputation.Details(approved);
        if (terms.GetValueOrDefault("offer_sha256") != Convert.ToHexStringLower(SHA256.HashData(offer.ToByteArray())) || approved.Time is null)
        {
            differences.Add($"{name} shows offer terms other than those its approval (event {approval.Index}) logged");
            return null;
        }

        proven[approval.Index] = approval;
        DateTimeOffset? expires = DateTimeOffset.TryParse(terms.GetValueOrDefault("expire_time"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal,
            out var expiry) ? expiry : null;
        var end = revoked is { } r && (expires is null || r < expires) ? r : expires;
        if (offer is { Kind: OfferKind.Subscription, AutoRenew: true })
        {
            // Its consumer's cancellation makes the period under way the last: the grant ends when the next one would start.
            // Only the consumer cancels; the end it logged must be that one; and the gateway's grant must say what the log does.
            AuditEvent? cancellation = null;
            foreach (var (e, record) in await LoggedAsync(grant.Dataset, "grant.cancel_renewal", logs, cancellationToken).ConfigureAwait(false))
            {
                if (record.Resource == name && record.Time is { } time)
                {
                    if (record.Actor != approved.Subject)
                    {
                        differences.Add($"{name}'s renewal was cancelled by {record.Actor} (event {e.Index}), not by its consumer {approved.Subject}");
                        continue;
                    }

                    var periodEnd = CancelledRenewalEnd.PeriodUnderWay(approved.Time.ToDateTimeOffset(), offer.PeriodMonths, time.ToDateTimeOffset());
                    if (CancelledRenewalEnd.Logged(record) != periodEnd)
                    {
                        differences.Add($"{name}'s cancelled renewal (event {e.Index}) logs an end other than {periodEnd:O}, when the period under way then ended");
                    }

                    cancellation = e;
                    proven[e.Index] = e;
                    end = end is { } earlier && earlier < periodEnd ? earlier : periodEnd;
                    break;
                }
            }

            if (grant.RenewalCancelTime is { } shown && cancellation is null)
            {
                differences.Add($"{name} shows its renewal cancelled at {shown.ToDateTimeOffset():O}, but the log has no cancellation by its consumer");
            }
            else if (grant.RenewalCancelTime is null && cancellation is not null)
            {
                differences.Add($"{name} shows its renewal running, but its consumer cancelled it (event {cancellation.Index})");
            }

            if (long.TryParse(terms.GetValueOrDefault("max_transfers"), NumberStyles.None, CultureInfo.InvariantCulture, out var most) && most > 0)
            {
                // A grant that has started all of its transfers can no longer be used, and its subscription ends at the last start.
                var started = 0L;
                foreach (var (e, record) in await LoggedAsync(grant.Dataset, "transfer.start", logs, cancellationToken).ConfigureAwait(false))
                {
                    if (ChargeRecomputation.Details(record).GetValueOrDefault("grant") == name && ++started == most && record.Time is { } time)
                    {
                        proven[e.Index] = e;
                        end = end is { } earlier && earlier < time.ToDateTimeOffset() ? earlier : time.ToDateTimeOffset();
                        break;
                    }
                }
            }
        }

        return grants[name] = new GrantPrice(name, approved.Subject, approved.Actor, offer, approved.Time.ToDateTimeOffset(), end);
    }

    /// <summary>The successful <paramref name="action"/> events of <paramref name="dataset"/> in log order, read once per verification.</summary>
    private async Task<List<(AuditEvent Event, AuditRecord Record)>> LoggedAsync(string dataset, string action,
        Dictionary<(string Dataset, string Action), List<(AuditEvent Event, AuditRecord Record)>> logs, CancellationToken cancellationToken)
    {
        if (logs.TryGetValue((dataset, action), out var logged))
        {
            return logged;
        }

        logs[(dataset, action)] = logged = [];
        await foreach (var e in EnumerateAuditEventsAsync(new ListAuditEventsRequest { Action = action, Dataset = dataset, PageSize = 1000 },
            cancellationToken).ConfigureAwait(false))
        {
            var record = AuditRecord.Parser.ParseFrom(e.Leaf);
            if (record.Outcome == AuditOutcome.Success)
            {
                logged.Add((e, record));
            }
        }

        return logged;
    }

    private async Task<AuditEvent?> EventAtAsync(long index, CancellationToken cancellationToken)
    {
        var page = await Audit.ListAuditEventsAsync(new ListAuditEventsRequest { StartIndex = index, PageSize = 1 }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return page.Events.FirstOrDefault(e => e.Index == index);
    }

    /// <summary>Proves every event in one signed checkpoint (waiting a little for one that covers the newest); returns its size.</summary>
    private async Task<long> ProveAsync(IEnumerable<AuditEvent> events, List<string> differences, CancellationToken cancellationToken)
    {
        var all = events.OrderBy(e => e.Index).ToList();
        var newest = all.Count == 0 ? -1 : all[^1].Index;
        Checkpoint checkpoint;
        var waited = 0;
        while (true)
        {
            checkpoint = (await Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Checkpoint;
            if (checkpoint.Size > newest || waited++ >= 20)
            {
                break;
            }

            // Checkpoints are signed every second or so; the newest charge may be younger than the last one.
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }

        foreach (var e in all)
        {
            if (e.Index >= checkpoint.Size)
            {
                differences.Add($"event {e.Index} is not in a signed checkpoint yet (size {checkpoint.Size}); verify again shortly");
                continue;
            }

            var proof = await Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = e.Index, TreeSize = checkpoint.Size },
                cancellationToken: cancellationToken).ConfigureAwait(false);
            var receipt = new TransferReceipt { Event = e, Checkpoint = checkpoint };
            receipt.InclusionProof.Add(proof.Hashes);
            var verified = await _logTrust.VerifyAsync(receipt, $"event {e.Index}", cancellationToken).ConfigureAwait(false);
            if (!verified.Succeeded)
            {
                differences.Add($"event {e.Index}: {verified.Message}");
            }
        }

        return checkpoint.Size;
    }

    /// <summary>Lines against the period's charges, one for one, and the totals against the lines.</summary>
    private static List<string> LineDifferences(Statement statement, string participant, string period, IEnumerable<(long Index, AuditRecord Record)> charges)
    {
        var differences = new List<string>();
        var ofPeriod = charges.Where(c => ChargeRecomputation.Details(c.Record).GetValueOrDefault("period") == period).ToDictionary(c => c.Index, c => c.Record);
        foreach (var line in statement.Lines)
        {
            var u = line.Usage;
            if (!ofPeriod.Remove(u.ChargeIndex, out var record))
            {
                differences.Add($"line {u.Name} names charge event {u.ChargeIndex}, which is not a charge of {participant} in {period}");
                continue;
            }

            var d = ChargeRecomputation.Details(record);
            var expected = new[]
            {
                (record.Resource, u.Name), (d.GetValueOrDefault("grant"), u.Grant), (d.GetValueOrDefault("resource"), u.Resource),
                (d.GetValueOrDefault("units"), Text(u.Units)), (d.GetValueOrDefault("amount_minor"), Text(u.Amount.AmountMinor)),
                (d.GetValueOrDefault("fee_minor"), Text(u.FeeMinor)), (d.GetValueOrDefault("currency"), u.Amount.Currency),
                (d.GetValueOrDefault("event"), Text(u.EventIndex)), (d.GetValueOrDefault("usage_period"), u.UsagePeriod),
                (record.Subject, u.Consumer), (d.GetValueOrDefault("provider"), u.Provider),
            };
            if (expected.Any(p => p.Item1 != p.Item2) ||
                line.Role != (u.Consumer == participant ? StatementRole.Consumer : StatementRole.Provider) || line.Adjustment != (u.UsagePeriod != period))
            {
                differences.Add($"line {u.Name} differs from its charge event {u.ChargeIndex}");
            }
        }

        differences.AddRange(ofPeriod.Select(c => $"charge event {c.Key} ({c.Value.Resource}) is missing from the statement"));
        var totals = statement.Lines.GroupBy(l => l.Usage.Amount.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var charged = g.Where(l => l.Role == StatementRole.Consumer).Sum(l => l.Usage.Amount.AmountMinor);
            var earned = g.Where(l => l.Role == StatementRole.Provider).Sum(l => l.Usage.Amount.AmountMinor - l.Usage.FeeMinor);
            return new StatementTotal
            {
                Currency = g.Key,
                ChargesMinor = charged,
                EarningsMinor = earned,
                FeesMinor = g.Where(l => l.Role == StatementRole.Provider).Sum(l => l.Usage.FeeMinor),
                NetMinor = earned - charged,
            };
        });
        if (!totals.SequenceEqual(statement.Totals) || statement.LineCount != statement.Lines.Count)
        {
            differences.Add("the statement's totals are not the sum of its lines");
        }

        return differences;
    }

    /// <summary>A charge as the log holds it, its details read once.</summary>
    private sealed class LoggedCharge(AuditEvent e)
    {
        public AuditEvent Event { get; } = e;

        public long Index => Event.Index;

        public AuditRecord Record { get; } = AuditRecord.Parser.ParseFrom(e.Leaf);

        private Dictionary<string, string>? _details;

        public string Detail(string key) => (_details ??= ChargeRecomputation.Details(Record)).GetValueOrDefault(key, "");
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
