namespace Exchange.Server.Compute.Model;

/// <summary>One ORDER BY item: the output at <see cref="Output"/> (its index among the query's outputs).</summary>
internal sealed record QueryOrder(int Output, bool Descending);
