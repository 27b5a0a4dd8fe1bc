namespace Exchange.Server.Access.Model;

/// <summary>A grant's privacy budget in thousandths of epsilon: the rule's plus what its provider added, and what answered queries spent.</summary>
internal sealed record QueryBudget(long TotalMillis, long SpentMillis, long Queries)
{
    public long RemainingMillis => TotalMillis - SpentMillis;
}
