using Exchange.Server.Access.Model;

namespace Exchange.Server.Access;

/// <summary>What Access shows of a grant's privacy budget, which Compute keeps (the grant's queries spend it).</summary>
internal interface IQueryBudgets
{
    /// <summary>The budget of <paramref name="grant"/>, or null when its terms have no differential privacy.</summary>
    Task<QueryBudget?> BudgetAsync(Grant grant, CancellationToken cancellationToken);
}
