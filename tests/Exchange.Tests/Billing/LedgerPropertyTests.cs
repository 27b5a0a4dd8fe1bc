using System.Security.Cryptography;
using Exchange.Server.Access;
using Exchange.Server.Billing;
using Exchange.Server.Storage;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Compute;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Tests.Billing.BillingFixture;

namespace Exchange.Tests.Billing;

/// <summary>
/// Random offers and random sequences of downloads, cut downloads, retries of the same request,
/// replayed completions, queries and revocations: after each, the ledger sums to zero, every usage
/// record is charged once, what the consumer pays is what the offer gives for the transfers and
/// queries the gateway reports, and the consumer's statement verifies against its receipts and the log.
/// </summary>
public sealed class LedgerPropertyTests(BillingGateway gateway) : SharedGatewayTests<BillingGateway>(gateway)
{
    public enum Step
    {
        Use,
        Cut,
        Retry,
        Replay,
        Revoke,
    }

    public sealed record Scenario(OfferKind Kind, bool ChargesCuts, long Price, long FreeUnits, long Cap, Step[] Steps)
    {
        public override string ToString() =>
            $"{Kind}{(ChargesCuts ? " (cuts charged)" : "")} price {Price} free {FreeUnits} cap {Cap}: {string.Join(", ", Steps)}";
    }

    private static readonly Gen<Scenario> Scenarios =
        from kind in Gen.Elements(OfferKind.PerTransfer, OfferKind.PerGib, OfferKind.PerQuery, OfferKind.OneOff, OfferKind.Subscription)
        from cuts in Gen.Elements(false, kind == OfferKind.PerGib)
        from price in kind == OfferKind.PerGib ? Gen.Choose(1, int.MaxValue).Select(p => (long)p) : Gen.Choose(1, 500).Select(p => (long)p)
        from free in kind is OfferKind.PerTransfer or OfferKind.PerQuery ? Gen.Choose(0, 3) : Gen.Constant(0)
        from cap in kind is OfferKind.OneOff or OfferKind.Subscription ? Gen.Constant(0) : Gen.Elements(0, 0, 150, 999, 250_000)
        from steps in Gen.Elements(Step.Use, Step.Use, Step.Cut, Step.Retry, Step.Replay, Step.Revoke).ArrayOf().Select(s => s.Take(8).ToArray())
        select new Scenario(kind, cuts, price, free, cap, steps);

    [Fact]
    public void The_ledger_balances_and_every_charge_follows_from_the_receipts_whatever_happens()
    {
        // Off xunit's synchronisation context: FsCheck runs each case synchronously.
        var property = Prop.ForAll(Scenarios.ToArbitrary(), scenario => Task.Run(() => RunAsync(scenario)).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(30), property);
    }

    private async Task<bool> RunAsync(Scenario scenario)
    {
        var buyer = Participant.Initech.Fresh();
        using var acme = Gateway.As(Participant.Acme.Fresh());
        using var initech = Gateway.As(buyer);
        var made = Offer(scenario.Kind, scenario.Price);
        made.FreeUnits = scenario.FreeUnits;
        made.CapMinorPerPeriod = scenario.Cap;
        made.PeriodMonths = scenario.Kind == OfferKind.Subscription ? 1 : 0;
        made.PartialTransferCharge = scenario.ChargesCuts ? PartialTransferCharge.BytesSent : PartialTransferCharge.Unspecified;
        Dataset dataset;
        if (scenario.Kind == OfferKind.PerQuery)
        {
            dataset = await ComputeFixture.PurchasesAsync(acme);
        }
        else
        {
            dataset = await CatalogFixture.CreateAsync(acme);
            await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(600 * 1024)));
            dataset = (await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
        }

        var offer = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = dataset.Name, Offer = made })).Offer;
        var grant = await BuyAsync(acme, initech, dataset, offer,
            scenario.Kind == OfferKind.PerQuery ? new Terms { Kind = GrantKind.Compute, Analysis = ComputeFixture.Rule() } : null);

        var answered = 0;
        var requestId = "";
        foreach (var step in scenario.Steps)
        {
            try
            {
                switch (step)
                {
                    case Step.Use or Step.Cut or Step.Retry when scenario.Kind == OfferKind.PerQuery:
                        await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = "SELECT city, COUNT(*) FROM data GROUP BY city" });
                        answered++;
                        break;
                    case Step.Use:
                        requestId = Guid.NewGuid().ToString("N");
                        await DownloadAsync(initech, grant.Name, requestId, cut: false);
                        break;
                    case Step.Cut:
                        requestId = Guid.NewGuid().ToString("N");
                        await DownloadAsync(initech, grant.Name, requestId, cut: true);
                        break;
                    case Step.Retry when requestId.Length > 0:
                        // The same request again: it continues the transfer it started, or is refused; never a second charge.
                        await DownloadAsync(initech, grant.Name, requestId, cut: false);
                        break;
                    case Step.Replay when !scenario.ChargesCuts:
                        await ReplayAsync(initech, grant);
                        break;
                    case Step.Revoke:
                        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "property" });
                        break;
                }
            }
            catch (RpcException refused) when (refused.StatusCode is StatusCode.PermissionDenied or StatusCode.FailedPrecondition or StatusCode.Aborted)
            {
                // Revoked, or a retry of a transfer that already completed: refused, and charged nothing.
            }
        }

        // The model: what the offer gives for what the gateway says happened, in one month.
        var transfers = new List<Transfer>();
        await foreach (var t in initech.EnumerateTransfersAsync(new ListTransfersRequest { Grant = grant.Name }))
        {
            transfers.Add(t);
        }

        var units = scenario.Kind switch
        {
            OfferKind.PerTransfer => transfers.Count(t => t.State == TransferState.Completed),
            OfferKind.PerGib when scenario.ChargesCuts => transfers.Sum(t => t.BytesSent),
            OfferKind.PerGib => transfers.Where(t => t.State == TransferState.Completed).Sum(t => t.BytesSent),
            OfferKind.PerQuery => answered,
            _ => 1,
        };
        var expected = OfferCharges.Charge(offer, 0, units, 0);
        var statement = await StatementAsync(initech, buyer.Id);
        Assert.Equal(expected, statement.Totals.Sum(t => t.ChargesMinor));
        Assert.All((await BalancesAsync(Gateway)).Values, sum => Assert.Equal(0, sum));
        Assert.All((await UsageCountsAsync(Gateway)).Values, count => Assert.Equal(1, count));
        Assert.Empty(await UsageTotalsDifferencesAsync(Gateway, grant));
        var verified = await initech.VerifyStatementAsync(buyer.Id, statement.Period);
        Assert.True(verified.Succeeded, $"{scenario}:\n{string.Join('\n', verified.Differences)}");
        return true;
    }

    private static async Task DownloadAsync(Exchange.Client.ExchangeClient consumer, string grant, string requestId, bool cut)
    {
        using var stop = new CancellationTokenSource();
        using var call = consumer.Transfers.Download(new DownloadRequest { Grant = grant, Purpose = "research", RequestId = requestId }, cancellationToken: stop.Token);
        var transfer = "";
        var messages = 0;
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                transfer = call.ResponseStream.Current.Header?.Transfer is { Length: > 0 } named ? named : transfer;
                if (cut && ++messages == 2)
                {
                    await stop.CancelAsync();
                    break;
                }
            }
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cut)
        {
        }

        if (cut && transfer.Length > 0)
        {
            // A cut stream ends as FAILED once the gateway notices; the next step must not find it still streaming.
            await consumer.WaitForTransferAsync(transfer, TransferState.Failed);
        }
    }

    /// <summary>The last completed transfer's completion told to the meter again, as a replayed or retried event would be.</summary>
    private async Task ReplayAsync(Exchange.Client.ExchangeClient consumer, Grant grant)
    {
        Transfer? last = null;
        await foreach (var t in consumer.EnumerateTransfersAsync(new ListTransfersRequest { Grant = grant.Name, State = TransferState.Completed }))
        {
            last = t;
        }

        if (last is null)
        {
            return;
        }

        var receipt = (await consumer.Transfers.GetTransferAsync(new GetTransferRequest { Name = last.Name })).Transfer.Receipt;
        var stored = await Gateway.Services.GetRequiredService<AccessStore>()
            .GetGrantAsync(new GrantId(grant.Name["grants/".Length..]), DateTimeOffset.UtcNow, CancellationToken.None);
        await Gateway.Services.GetRequiredService<Database>().WriteAsync(unit =>
        {
            Gateway.Services.GetRequiredService<Meter>().TransferEnded(unit, stored!, last.Name, 1, completed: true, last.BytesSent, receipt.Event.Index);
            return 0;
        }, CancellationToken.None);
    }
}
