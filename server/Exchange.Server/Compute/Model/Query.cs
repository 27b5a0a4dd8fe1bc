namespace Exchange.Server.Compute.Model;

/// <summary>
/// An aggregate query over one table, as parsed from the SQL subset: what it outputs, which rows
/// it keeps, what it groups on, how its result is ordered and cut. Nothing here has been checked
/// against a rule yet (<see cref="AnalysisPolicy"/> does that).
/// </summary>
internal sealed record Query(
    IReadOnlyList<QueryOutput> Outputs,
    Condition? Where,
    IReadOnlyList<string> GroupBy,
    IReadOnlyList<QueryOrder> OrderBy,
    long? Limit);
