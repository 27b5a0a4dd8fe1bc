namespace Exchange.Server.Compute.Model;

/// <summary>An aggregate a query computes; <see cref="CountAll"/> is COUNT(*), which needs no column.</summary>
internal enum Aggregate
{
    CountAll,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}
