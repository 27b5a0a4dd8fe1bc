using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;

namespace Exchange.Tests.Rights;

/// <summary>
/// Time in the registry: a ten-day public notice (the default outside Development, which has none so
/// that a walkthrough goes on at once), and expiry at a right's end, on a clock the tests move.
/// </summary>
public sealed class RightsNoticeTests
{
    [Fact]
    public async Task Approval_waits_for_the_ten_day_notice_and_a_right_reads_expired_after_its_end()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = ExchangeFactory.With(("Exchange:Rights:NoticePeriod", "10.00:00:00"));
        factory.Clock = clock;
        using var acme = factory.OnClock(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var end = clock.GetUtcNow().AddDays(30);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding, end: end);
        var noticeEnd = clock.GetUtcNow().AddDays(10);
        Assert.InRange(pending.NoticeEndTime.ToDateTimeOffset(), noticeEnd.AddMilliseconds(-1), noticeEnd);

        using (var ops = factory.OnClock(Participant.Operator))
        {
            var early = await Rpc.FailsWith(StatusCode.FailedPrecondition, ops.Rights.ApproveRightAsync(new() { Name = pending.Name }));
            Assert.Contains("public notice until", early.Status.Detail, StringComparison.Ordinal);
        }

        clock.Advance(TimeSpan.FromDays(10));
        using (var ops = factory.OnClock(Participant.Operator))
        {
            Assert.Equal(RightState.Active, (await ops.Rights.ApproveRightAsync(new() { Name = pending.Name })).Right.State);
        }

        clock.Advance(TimeSpan.FromDays(21));
        using var later = factory.OnClock(Participant.Acme);
        Assert.Equal(RightState.Expired, (await later.GetAsync(pending)).State);
        var expired = (await later.Rights.ListRightsAsync(new ListRightsRequest { Parent = dataset.Name, State = RightState.Expired })).Rights;
        Assert.Equal([pending.Name], expired.Select(r => r.Name));
        Assert.Empty((await later.Rights.ListRightsAsync(new ListRightsRequest { Parent = dataset.Name, State = RightState.Active })).Rights);

        // An expired right is not licensed, but its holder may renew it.
        await Rpc.FailsWith(StatusCode.FailedPrecondition,
            later.Rights.LicenseRightAsync(new() { Name = pending.Name, Licensee = "initech", Kind = RightKind.ProcessingUse }));
        var renewed = (await later.Rights.RenewRightAsync(new() { Name = pending.Name, EndTime = Timestamp.FromDateTimeOffset(clock.GetUtcNow().AddDays(30)) })).Right;
        Assert.Equal(RightState.Active, renewed.State);
    }
}
