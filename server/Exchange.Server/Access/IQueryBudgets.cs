using Exchange.Server.Access.Model;

namespace Exchange.Server.Access;

/// <summary>What Access shows of a grant's privacy budget, which Compute keeps (the grant's queries spend it).</summary>
internal interface IQueryBudgets
{
    /// <summary>
    /// The budgets of those of <paramref name="grants"/> whose terms have differential privacy, by grant
    /// (the others have none), read at once: a page of grants is one read, not one per grant.
    /// </summary>
    Task<IReadOnlyDictionary<GrantId, QueryBudget>> BudgetsAsync(IReadOnlyList<Grant> grants, CancellationToken cancellationToken);
}
