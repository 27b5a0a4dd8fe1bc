namespace Exchange.Client.Compute;

/// <summary>
/// One grant's privacy budget as the audit log alone tells it, in thousandths of epsilon: the rule's
/// budget at approval, what the provider added since, what admitted queries spent, and how many
/// queries were answered and refused.
/// </summary>
/// <param name="Grant">The grant, <c>grants/{id}</c>.</param>
/// <param name="InitialMillis">The budget its rule set at approval.</param>
/// <param name="AddedMillis">What its provider added since.</param>
/// <param name="SpentMillis">What its queries spent on admission (answered or not).</param>
/// <param name="Queries">Queries answered.</param>
/// <param name="Refused">Queries refused (for the rule, the budget, the caller or the grant's state: nothing spent) or failed after admission (spent on admission).</param>
public sealed record BudgetAccount(string Grant, long InitialMillis, long AddedMillis, long SpentMillis, long Queries, long Refused)
{
    /// <summary>The budget in all: initial plus added.</summary>
    public long TotalMillis => InitialMillis + AddedMillis;

    /// <summary>What is left to spend.</summary>
    public long RemainingMillis => TotalMillis - SpentMillis;
}
