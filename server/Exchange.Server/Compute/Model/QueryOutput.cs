namespace Exchange.Server.Compute.Model;

/// <summary>
/// One output column of a query: a dimension it groups on (<see cref="Function"/> null) or an
/// aggregate of <see cref="Column"/> (null for COUNT(*)), named <see cref="Name"/> in the result.
/// </summary>
internal sealed record QueryOutput(string Name, string? Column, Aggregate? Function)
{
    public bool IsDimension => Function is null;
}
