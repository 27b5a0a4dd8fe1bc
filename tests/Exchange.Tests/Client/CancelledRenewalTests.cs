using Exchange.Client;
using Exchange.Tests.Billing;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Tests.Client;

/// <summary>
/// A consumer's cancellation of its subscription's renewal through the SDK: it returns only once the
/// receipt proves the cancellation, with the end the grant shows, is in the trusted log; a gateway
/// (or a man in the middle) that shows another end is caught.
/// </summary>
public sealed class CancelledRenewalTests
{
    [Fact]
    public async Task A_cancelled_renewal_comes_with_a_verified_receipt_and_a_grant_showing_another_end_is_refused()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var (dataset, offer) = await BillingFixture.OfferedAsync(acme, BillingFixture.MonthlySubscription(900));
        var grant = await BillingFixture.BuyAsync(acme, initech, dataset, offer);
        var end = grant.CreateTime.ToDateTimeOffset().AddMonths(1);

        // The grant relayed claims a month more than the cancellation logged; then, a start ten days earlier, whose period under
        // way would have ended before the end logged.
        Action<CancelGrantRenewalResponse> lie = r => r.Grant.Terms.ExpireTime = Timestamp.FromDateTimeOffset(end.AddMonths(1));
        var proxy = new RewritingProxy(factory.Server.CreateHandler()).On<CancelGrantRenewalResponse>("exchange.v1.AccessService/CancelGrantRenewal",
            r => lie(r));
        using (var relayed = factory.ClientThrough(proxy, Participant.Initech))
        {
            var refused = await Assert.ThrowsAsync<VerificationException>(() => relayed.CancelGrantRenewalAsync(grant.Name));
            Assert.Equal(VerificationCheck.Event, refused.FailedCheck);
            Assert.Contains($"the end the grant shows ({end.AddMonths(1):O}) are not {end:O}", refused.Message, StringComparison.Ordinal);

            var earlier = grant.CreateTime.ToDateTimeOffset().AddDays(-10);
            lie = r => r.Grant.CreateTime = Timestamp.FromDateTimeOffset(earlier);
            refused = await Assert.ThrowsAsync<VerificationException>(() => relayed.CancelGrantRenewalAsync(grant.Name));
            Assert.Contains($"are not {earlier.AddMonths(1):O}, the end of the period under way", refused.Message, StringComparison.Ordinal);
        }

        // The gateway had cancelled it: asked again, it returns the same cancellation, proven.
        var cancelled = await initech.CancelGrantRenewalAsync(grant.Name);
        Assert.True(cancelled.Verification.Succeeded, cancelled.Verification.Message);
        Assert.Equal(end, cancelled.Grant.Terms.ExpireTime.ToDateTimeOffset());
        using var auditor = factory.As(Participant.Auditor);
        var logged = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = "grant.cancel_renewal", Dataset = dataset.Name })).Events;
        Assert.Equal(Assert.Single(logged).Index, cancelled.Receipt.Event.Index);
        Assert.Equal((grant.Name, AuditOutcome.Success), (cancelled.Receipt.Event.Resource, cancelled.Receipt.Event.Outcome));

        // Another participant's grant is not found by this consumer, with no receipt of anything.
        using var umbrella = factory.As(Participant.Umbrella);
        await Rpc.FailsWith(Grpc.Core.StatusCode.NotFound, () => umbrella.CancelGrantRenewalAsync(grant.Name));
    }
}
