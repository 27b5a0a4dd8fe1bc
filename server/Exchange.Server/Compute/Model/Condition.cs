namespace Exchange.Server.Compute.Model;

/// <summary>
/// A WHERE condition as parsed: a test of <see cref="Column"/> (<see cref="Operator"/> one of
/// = != &lt; &lt;= &gt; &gt;=; <see cref="Negated"/> for NOT IN and IS NOT NULL) against
/// <see cref="Values"/>, or an AND, OR or NOT of <see cref="Children"/>.
/// </summary>
internal sealed record Condition(
    ConditionKind Kind,
    string Column = "",
    string Operator = "",
    IReadOnlyList<QueryLiteral>? Values = null,
    bool Negated = false,
    IReadOnlyList<Condition>? Children = null)
{
    public IReadOnlyList<QueryLiteral> Literals => Values ?? [];

    public IReadOnlyList<Condition> Parts => Children ?? [];
}
