using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;

namespace Exchange.Server.Access.Model;

/// <summary>
/// A consumer's right to download a dataset under <see cref="Terms"/>; its state is as of when it was read.
/// <see cref="RenewalCancelTime"/> is when its consumer stopped its subscription renewing, if it did.
/// </summary>
internal sealed record Grant(
    GrantId Id,
    DatasetId Dataset,
    string Consumer,
    string Provider,
    AccessRequestId AccessRequest,
    Terms Terms,
    long TransfersUsed,
    DateTimeOffset? RevokeTime,
    string RevokeReason,
    DateTimeOffset CreateTime,
    GrantState State,
    DateTimeOffset? RenewalCancelTime = null)
{
    /// <summary>When period <paramref name="number"/> (from 1) of a grant under a subscription offer starts.</summary>
    public DateTimeOffset PeriodStart(long number) => CreateTime.AddMonths(checked((int)((number - 1) * Terms.Offer!.PeriodMonths)));

    /// <summary>The number of the first period (from 2) that starts after <paramref name="now"/>: the end of the one under way.</summary>
    public long NextPeriod(DateTimeOffset now)
    {
        var number = 2L;
        while (PeriodStart(number) <= now)
        {
            number++;
        }

        return number;
    }
}
