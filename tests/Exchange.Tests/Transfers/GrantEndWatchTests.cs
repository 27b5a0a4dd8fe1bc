using Exchange.Server.Access;
using Exchange.Server.Access.Model;
using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Storage;
using Exchange.Server.Transfers;
using Microsoft.Extensions.Time.Testing;

namespace Exchange.Tests.Transfers;

/// <summary>
/// A running download's watch on its grant's end, on the gateway's clock: under an auto-renewing subscription it reads
/// the grant again at each period's end and 30 s after, and goes on while the grant does, stops once the grant ends there,
/// and stops as well when the grant cannot be read then (or the read does not answer), since a cancelled renewal could
/// have ended it.
/// </summary>
public sealed class GrantEndWatchTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 20, 12, 0, 0, TimeSpan.Zero);

    private static Grant Subscribed(DateTimeOffset? end = null, DateTimeOffset? cancelled = null, int months = 1) => new(
        new GrantId("g1"), new DatasetId("d1"), "initech", "acme", new AccessRequestId("r1"),
        new Terms(["research"], end, 0,
            Offer: new V1.Offer { Kind = V1.OfferKind.Subscription, PeriodMonths = months, AutoRenew = true, Price = new V1.Money { Currency = "EUR", AmountMinor = 1 } }),
        0, null, "", Created, GrantState.Active, cancelled);

    [Fact]
    public void A_renewing_grant_is_read_again_at_each_periods_end_and_the_download_goes_on()
    {
        var clock = new FakeTimeProvider(Created.AddDays(10));
        var grants = new ReadGrants(() => Subscribed());
        using var watch = new GrantEndWatch(Subscribed(), grants, clock);

        clock.Advance(TimeSpan.FromDays(21) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, grants.Reads);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, grants.Reads);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, grants.Reads);
        clock.Advance(TimeSpan.FromDays(28) - TimeSpan.FromSeconds(30));
        Assert.Equal(3, grants.Reads);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(4, grants.Reads);

        Assert.False(watch.Ended.IsCancellationRequested);
        Assert.False(watch.HasEnded(clock.GetUtcNow()));
    }

    [Fact]
    public void A_renewal_cancelled_while_the_download_runs_ends_it_with_the_period()
    {
        var clock = new FakeTimeProvider(Created.AddDays(10));
        var periodEnd = Created.AddMonths(1);
        var grants = new ReadGrants(() => Subscribed(periodEnd, Created.AddDays(12)));
        using var watch = new GrantEndWatch(Subscribed(), grants, clock);

        clock.Advance(periodEnd - clock.GetUtcNow());
        Assert.True(watch.Ended.IsCancellationRequested);
        Assert.True(watch.HasEnded(clock.GetUtcNow()));
        Assert.False(watch.Unconfirmed);
    }

    [Fact]
    public void A_renewal_cancelled_just_before_a_periods_end_but_read_after_it_is_seen_at_the_second_look()
    {
        // The cancellation took its time before the period's end, but committed after the read there.
        var clock = new FakeTimeProvider(Created.AddDays(10));
        var periodEnd = Created.AddMonths(1);
        var grants = new ReadGrants(() => Subscribed());
        using var watch = new GrantEndWatch(Subscribed(), grants, clock);

        clock.Advance(periodEnd - clock.GetUtcNow());
        Assert.Equal(1, grants.Reads);
        Assert.False(watch.Ended.IsCancellationRequested);
        grants.Read = () => Subscribed(periodEnd, periodEnd.AddMilliseconds(-2));
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(watch.Ended.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(watch.Ended.IsCancellationRequested);
        Assert.True(watch.HasEnded(clock.GetUtcNow()));
        Assert.False(watch.Unconfirmed);
    }

    [Fact]
    public void The_second_look_follows_the_periods_end_even_when_a_long_waits_step_woke_the_watch_just_before_it()
    {
        // A two-month period: the watch waits in steps of 40 days, and this one's first step ends 10 s before the period does.
        var periodEnd = Created.AddMonths(2);
        var clock = new FakeTimeProvider(periodEnd - TimeSpan.FromDays(40) - TimeSpan.FromSeconds(10));
        var grants = new ReadGrants(() => Subscribed(months: 2));
        using var watch = new GrantEndWatch(Subscribed(months: 2), grants, clock);

        clock.Advance(TimeSpan.FromDays(40));
        Assert.Equal(1, grants.Reads);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, grants.Reads);
        grants.Read = () => Subscribed(periodEnd, periodEnd.AddMilliseconds(-2), months: 2);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(3, grants.Reads);
        Assert.True(watch.Ended.IsCancellationRequested);
    }

    [Fact]
    public void A_read_of_the_grant_that_does_not_answer_stops_the_download_as_unconfirmed()
    {
        var clock = new FakeTimeProvider(Created.AddDays(10));
        var grants = new ReadGrants(() => Subscribed()) { Pending = new TaskCompletionSource<Grant?>() };
        using var watch = new GrantEndWatch(Subscribed(), grants, clock);

        clock.Advance(TimeSpan.FromDays(21));
        Assert.False(watch.Ended.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(watch.Ended.IsCancellationRequested);
        Assert.True(watch.Unconfirmed);
    }

    [Fact]
    public void A_grant_that_cannot_be_read_at_a_periods_end_stops_the_download_as_unconfirmed()
    {
        var clock = new FakeTimeProvider(Created.AddDays(10));
        var grants = new ReadGrants(() => throw new InvalidOperationException("the database is away"));
        using var watch = new GrantEndWatch(Subscribed(), grants, clock);

        clock.Advance(TimeSpan.FromDays(21));
        Assert.True(watch.Ended.IsCancellationRequested);
        Assert.True(watch.Unconfirmed);
        Assert.False(watch.HasEnded(clock.GetUtcNow()));
    }

    [Fact]
    public void A_grant_without_an_end_or_a_renewal_is_never_read_again()
    {
        var clock = new FakeTimeProvider(Created);
        var grants = new ReadGrants(() => throw new InvalidOperationException("not read"));
        var plain = Subscribed() with { Terms = new Terms(["research"], null, 0) };
        using var watch = new GrantEndWatch(plain, grants, clock);

        clock.Advance(TimeSpan.FromDays(400));
        Assert.Equal(0, grants.Reads);
        Assert.False(watch.Ended.IsCancellationRequested);
    }

    /// <summary>Answers each read of the grant with <see cref="Read"/> (or leaves it to <see cref="Pending"/>), and counts them.</summary>
    private sealed class ReadGrants(Func<Grant> read) : IGrants
    {
        public int Reads { get; private set; }

        public Func<Grant> Read { get; set; } = read;

        public TaskCompletionSource<Grant?>? Pending { get; init; }

        public Task<Grant?> GetGrantAsync(GrantId id, DateTimeOffset now, CancellationToken cancellationToken)
        {
            Reads++;
            return Pending?.Task ?? Task.FromResult<Grant?>(Read());
        }

        public Grant? Find(WriteUnit unit, GrantId id) => throw new NotSupportedException();

        public void CountTransfer(WriteUnit unit, GrantId id) => throw new NotSupportedException();

        public DateTimeOffset? ExhaustTime(WriteUnit unit, Grant grant) => throw new NotSupportedException();
    }
}
