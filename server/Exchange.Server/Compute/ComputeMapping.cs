using System.Globalization;
using Exchange.Server.Compute.Model;

namespace Exchange.Server.Compute;

/// <summary>Compute's domain types to the contract's exchange.v1 messages, at the edge.</summary>
internal static class ComputeMapping
{
    public static V1.QueryResult ToProto(this QueryAnswer answer)
    {
        var result = new V1.QueryResult();
        if (answer.Suppressed is { } suppressed)
        {
            result.SuppressedRows = suppressed;
        }

        result.Columns.Add(answer.Columns);
        foreach (var row in answer.Rows)
        {
            var values = new V1.QueryRow();
            values.Values.Add(row.Select(v => v ?? ""));
            result.Rows.Add(values);
        }

        return result;
    }

    /// <summary>Bounds a structured filter as the SQL form's length bounds its text.</summary>
    private const int MaxPredicates = 256;

    private const int MaxDepth = 16;

    /// <summary>Bounds a structured query's lists, as the SQL form's length does.</summary>
    private const int MaxParts = 64;

    /// <summary>
    /// The <see cref="Query"/> a structured query says, checked for shape only (the rule is
    /// AnalysisPolicy's, after this): INVALID_ARGUMENT naming the field otherwise.
    /// </summary>
    public static Query FromProto(V1.StructuredQuery structured)
    {
        const string Field = "structured";
        if (structured.Outputs.Count == 0)
        {
            throw Refusal.Invalid($"{Field}.outputs: a query outputs at least one aggregate or grouped dimension.");
        }

        if (structured.Outputs.Count > MaxParts || structured.GroupBy.Count > MaxParts || structured.OrderBy.Count > MaxParts)
        {
            throw Refusal.Invalid($"{Field}: a query has at most {MaxParts} outputs, {MaxParts} dimensions grouped on and {MaxParts} orderings.");
        }

        var outputs = structured.Outputs.Select((output, i) => Output(output, $"{Field}.outputs[{i}]")).ToList();
        var orders = structured.OrderBy.Select((order, i) => order.Output >= 0 && order.Output < outputs.Count
            ? new QueryOrder(order.Output, order.Descending)
            : throw Refusal.Invalid($"{Field}.order_by[{i}].output {order.Output} is no output's position (0 to {outputs.Count - 1}).")).ToList();
        if (structured.Limit is < 0 or > QueryParser.MaxLimit)
        {
            throw Refusal.Invalid($"{Field}.limit must be from 1 to {QueryParser.MaxLimit} (0: no limit), not {structured.Limit}.");
        }

        var count = 0;
        var where = structured.Where is { } predicate ? Condition(predicate, $"{Field}.where", 0, ref count) : null;
        return new Query(outputs, where, [.. structured.GroupBy], orders, structured.Limit == 0 ? null : structured.Limit);
    }

    private static QueryOutput Output(V1.StructuredQuery.Types.Output output, string field)
    {
        if (output.Function != V1.AggregateFunction.Unspecified && !Enum.IsDefined(output.Function))
        {
            throw Refusal.Invalid($"{field}.function {(int)output.Function} is not a known aggregate function.");
        }

        Aggregate? function = output.Function switch
        {
            V1.AggregateFunction.Unspecified => null,
            V1.AggregateFunction.Count when output.Column.Length == 0 => Aggregate.CountAll,
            V1.AggregateFunction.Count => Aggregate.Count,
            V1.AggregateFunction.CountDistinct => Aggregate.CountDistinct,
            V1.AggregateFunction.Sum => Aggregate.Sum,
            V1.AggregateFunction.Avg => Aggregate.Avg,
            V1.AggregateFunction.Min => Aggregate.Min,
            _ => Aggregate.Max,
        };
        if (function != Aggregate.CountAll && output.Column.Length == 0)
        {
            throw Refusal.Invalid($"{field}.column is required: a dimension, or the column to aggregate (only COUNT may leave it empty, for COUNT(*)).");
        }

        var column = function == Aggregate.CountAll ? null : output.Column;
        var name = output.Name.Length > 0 ? output.Name : function is null ? output.Column : QueryText.Aggregate(function, column);
        return new QueryOutput(name, column, function);
    }

    private static Condition Condition(V1.Predicate predicate, string field, int depth, ref int count)
    {
        if (++count > MaxPredicates || depth > MaxDepth)
        {
            throw Refusal.Invalid($"{field}: a filter holds at most {MaxPredicates} predicates, {MaxDepth} deep.");
        }

        switch (predicate.KindCase)
        {
            case V1.Predicate.KindOneofCase.All or V1.Predicate.KindOneofCase.Any:
                var list = predicate.KindCase == V1.Predicate.KindOneofCase.All ? predicate.All : predicate.Any;
                var name = predicate.KindCase == V1.Predicate.KindOneofCase.All ? "all" : "any";
                if (list.Predicates.Count == 0)
                {
                    throw Refusal.Invalid($"{field}.{name} needs at least one predicate.");
                }

                var parts = new List<Condition>();
                for (var i = 0; i < list.Predicates.Count; i++)
                {
                    parts.Add(Condition(list.Predicates[i], $"{field}.{name}.predicates[{i}]", depth + 1, ref count));
                }

                return parts.Count == 1 ? parts[0] : new Condition(name == "all" ? ConditionKind.And : ConditionKind.Or, Children: parts);
            case V1.Predicate.KindOneofCase.Not:
                return new Condition(ConditionKind.Not, Children: [Condition(predicate.Not, $"{field}.not", depth + 1, ref count)]);
            case V1.Predicate.KindOneofCase.Comparison:
                return Comparison(predicate.Comparison, $"{field}.comparison");
            default:
                throw Refusal.Invalid($"{field} is empty: set comparison, all, any or not.");
        }
    }

    private static Condition Comparison(V1.Comparison comparison, string field)
    {
        if (comparison.Column.Length == 0)
        {
            throw Refusal.Invalid($"{field}.column is required.");
        }

        var values = comparison.Values.Select(v => new QueryLiteral(LiteralKind.Typed, v)).ToList();
        var symbol = comparison.Operator switch
        {
            V1.ComparisonOperator.Equal => "=",
            V1.ComparisonOperator.NotEqual => "!=",
            V1.ComparisonOperator.Less => "<",
            V1.ComparisonOperator.LessOrEqual => "<=",
            V1.ComparisonOperator.Greater => ">",
            V1.ComparisonOperator.GreaterOrEqual => ">=",
            _ => null,
        };
        if (symbol is not null)
        {
            return values.Count == 1
                ? new Condition(ConditionKind.Compare, comparison.Column, symbol, values)
                : throw Refusal.Invalid($"{field}.values: {comparison.Operator.ToString().ToUpperInvariant()} compares with one value, not {values.Count}.");
        }

        return comparison.Operator switch
        {
            V1.ComparisonOperator.In when values.Count > 0 => new Condition(ConditionKind.In, comparison.Column, Values: values),
            V1.ComparisonOperator.In => throw Refusal.Invalid($"{field}.values: IN needs at least one value."),
            V1.ComparisonOperator.IsNull when values.Count == 0 => new Condition(ConditionKind.IsNull, comparison.Column),
            V1.ComparisonOperator.IsNull => throw Refusal.Invalid($"{field}.values: IS_NULL takes no value."),
            V1.ComparisonOperator.Prefix => throw Refusal.Invalid($"{field}.operator PREFIX is not available in queries; compare with =, IN or a range."),
            _ => throw Refusal.Invalid($"{field}.operator {((int)comparison.Operator).ToString(CultureInfo.InvariantCulture)} is not a known comparison."),
        };
    }
}
