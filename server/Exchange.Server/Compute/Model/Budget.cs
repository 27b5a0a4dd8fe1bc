namespace Exchange.Server.Compute.Model;

/// <summary>A grant's privacy budget in thousandths of epsilon: the rule's plus what its provider added, what answered queries spent.</summary>
internal sealed record Budget(long TotalMillis, long SpentMillis, long Queries)
{
    public long RemainingMillis => TotalMillis - SpentMillis;
}
