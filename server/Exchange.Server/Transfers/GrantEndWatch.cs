using Exchange.Server.Access;
using Exchange.Server.Access.Model;

namespace Exchange.Server.Transfers;

/// <summary>
/// Stops a download when its grant ends on the gateway's clock: at its expiry and, under an auto-renewing subscription (whose
/// consumer may cancel it on any replica, to end when the period under way does), at each period's end unless the grant, read
/// again then and once more shortly after, runs on. A grant that cannot be read again then is taken as ended: bytes are not
/// sent past an end not ruled out.
/// </summary>
internal sealed class GrantEndWatch : IDisposable
{
    // A timer reaches about 49 days; a longer wait is taken in steps.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(40);

    // A cancellation made just before a period's end may commit just after the read there, or on a replica whose clock
    // runs a little behind: a second read this long after the period's end sees it, so it overruns by this much at most.
    private static readonly TimeSpan SecondLook = TimeSpan.FromSeconds(30);

    // A read that takes longer than this leaves the end unconfirmed, as a failed one does.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly IGrants _grants;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _ended = new();
    private readonly ITimer _timer;
    private volatile Grant _grant;
    private volatile bool _unconfirmed;
    private volatile bool _disposed;

    public GrantEndWatch(Grant grant, IGrants grants, TimeProvider time)
    {
        (_grant, _grants, _time) = (grant, grants, time);
        _timer = time.CreateTimer(_ => _ = CheckAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm(time.GetUtcNow());
    }

    /// <summary>Cancelled once the grant has ended, or could not be read again when it might have.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Whether the grant had ended by <paramref name="now"/>, as last read.</summary>
    public bool HasEnded(DateTimeOffset now) => _grant.Terms.ExpireTime <= now;

    /// <summary>Whether the grant could not be read again at a period's end, where a cancelled renewal would have ended it.</summary>
    public bool Unconfirmed => _unconfirmed;

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        _ended.Dispose();
    }

    private static bool Renews(Grant grant) => grant.Terms.Offer is { Kind: V1.OfferKind.Subscription, AutoRenew: true } && grant.RenewalCancelTime is null;

    private void Arm(DateTimeOffset now)
    {
        var grant = _grant;
        var next = grant.Terms.ExpireTime;
        if (Renews(grant))
        {
            var number = grant.NextPeriod(now);
            var periodEnd = grant.PeriodStart(number);
            next = next < periodEnd ? next : periodEnd;

            // The second look at the period that ended last, whatever woke the watch before it.
            var secondLook = number > 2 ? grant.PeriodStart(number - 1) + SecondLook : (DateTimeOffset?)null;
            if (secondLook > now && secondLook < next)
            {
                next = secondLook;
            }
        }

        if (next is { } at)
        {
            var wait = at - now;
            _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait < LongestWait ? wait : LongestWait, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task CheckAsync()
    {
        try
        {
            var now = _time.GetUtcNow();
            if (!HasEnded(now) && Renews(_grant))
            {
                try
                {
                    // A grant is never deleted; one that could not be found is not one to send bytes under.
                    using var timeout = new CancellationTokenSource(ReadTimeout, _time);
                    _grant = await _grants.GetGrantAsync(_grant.Id, now, timeout.Token).WaitAsync(timeout.Token)
                        ?? _grant with { Terms = _grant.Terms with { ExpireTime = now } };
                }
                catch (Exception)
                {
                    if (!_disposed)
                    {
                        _unconfirmed = true;
                        _ended.Cancel();
                    }

                    return;
                }

                // The read may have taken a while: what follows is reckoned from now, not from before it.
                now = _time.GetUtcNow();
            }

            if (HasEnded(now))
            {
                _ended.Cancel();
                return;
            }

            Arm(now);
        }
        catch (ObjectDisposedException)
        {
            // The download ended first.
        }
    }
}
