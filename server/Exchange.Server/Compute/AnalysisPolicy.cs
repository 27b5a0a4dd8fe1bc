using Exchange.Server.Compute.Model;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Server.Compute;

/// <summary>
/// Whether a parsed query keeps a grant's analysis rule (whose own shape and narrowing are
/// Tables.AnalysisRuleValidation's and AnalysisRuleNarrowing's). Pure functions; each refusal is
/// INVALID_ARGUMENT naming what broke the rule.
/// </summary>
internal static partial class AnalysisPolicy
{
    /// <summary>
    /// <paramref name="query"/> with its column names as the table spells them, once it keeps
    /// <paramref name="rule"/> over <paramref name="columns"/>; otherwise INVALID_ARGUMENT naming
    /// what broke the rule.
    /// </summary>
    public static Query Check(Query query, AnalysisRule rule, IReadOnlyList<Column> columns)
    {
        var dimensions = rule.Dimensions.ToHashSet(StringComparer.Ordinal);
        string Resolve(string name, string where) => Resolved(columns, name, where);
        string Dimension(string name, string where)
        {
            var column = Resolve(name, where);
            return dimensions.Contains(column)
                ? column
                : throw Refusal.Invalid($"query: {where} '{column}' is not allowed: only the rule's dimension columns " +
                    $"({(dimensions.Count == 0 ? "none" : string.Join(", ", rule.Dimensions))}) may be grouped on or filtered on.");
        }

        var groupBy = query.GroupBy.Select(g => Dimension(g, "GROUP BY")).ToList();
        if (groupBy.Distinct(StringComparer.Ordinal).Count() != groupBy.Count)
        {
            throw Refusal.Invalid("query: GROUP BY names a column twice.");
        }

        var outputs = new List<QueryOutput>();
        foreach (var output in query.Outputs)
        {
            if (output.IsDimension)
            {
                var column = Dimension(output.Column!, "selecting");
                if (!groupBy.Contains(column))
                {
                    throw Refusal.Invalid($"query: '{column}' is selected but not grouped on; a query outputs aggregates and the dimensions it groups by.");
                }

                outputs.Add(output with { Column = column, Name = output.Name == output.Column ? column : output.Name });
                continue;
            }

            if (output.Function == Aggregate.CountAll)
            {
                outputs.Add(output);
                continue;
            }

            var aggregated = Resolve(output.Column!, QueryText.Aggregate(output.Function, output.Column));
            var allowed = rule.Aggregates.FirstOrDefault(a => a.Column == aggregated);
            var function = Function(output.Function!.Value);
            var printed = QueryText.Aggregate(output.Function, aggregated);
            if (allowed is null)
            {
                throw Refusal.Invalid($"query: {printed} is not allowed: '{aggregated}' is not an aggregate column of the rule " +
                    $"({(rule.Aggregates.Count == 0 ? "only COUNT(*) is allowed" : string.Join(", ", rule.Aggregates.Select(a => a.Column)))}).");
            }

            if (!allowed.Functions.Contains(function))
            {
                throw Refusal.Invalid($"query: {printed} is not allowed: the rule allows {string.Join(", ", allowed.Functions.Select(AnalysisRuleValidation.Name))} of '{aggregated}'.");
            }

            outputs.Add(output with { Column = aggregated, Name = output.Name == QueryText.Aggregate(output.Function, output.Column) ? printed : output.Name });
        }

        var where = query.Where is { } condition ? CheckCondition(condition, columns, c => Dimension(c, "WHERE on")) : null;
        return query with { Outputs = outputs, Where = where, GroupBy = groupBy };
    }

    /// <summary>The contract's function for a parsed aggregate (COUNT(*) has none: it is always allowed).</summary>
    public static AggregateFunction Function(Aggregate aggregate) => aggregate switch
    {
        Aggregate.Count => AggregateFunction.Count,
        Aggregate.CountDistinct => AggregateFunction.CountDistinct,
        Aggregate.Sum => AggregateFunction.Sum,
        Aggregate.Avg => AggregateFunction.Avg,
        Aggregate.Min => AggregateFunction.Min,
        Aggregate.Max => AggregateFunction.Max,
        _ => AggregateFunction.Unspecified,
    };

    private static Condition CheckCondition(Condition condition, IReadOnlyList<Column> columns, Func<string, string> dimension)
    {
        if (condition.Kind is ConditionKind.And or ConditionKind.Or or ConditionKind.Not)
        {
            return condition with { Children = [.. condition.Parts.Select(p => CheckCondition(p, columns, dimension))] };
        }

        var name = dimension(condition.Column);
        var column = columns.First(c => c.Name == name);
        var literals = new List<QueryLiteral>();
        foreach (var written in condition.Literals)
        {
            var literal = written.Kind == LiteralKind.Typed ? AsWritten(written, column.Type) : written;
            if (!Fits(literal, column.Type))
            {
                var shown = literal.Kind == LiteralKind.Text ? $"'{literal.Text}'" : literal.Text;
                throw Refusal.Invalid($"query: {shown} is no {ColumnValues.TypeName(column.Type)} value, which '{name}' holds" +
                    (written.Kind == LiteralKind.Typed ? " (written as the column's values are)" : Hint(column.Type)) + ".");
            }

            literals.Add(literal);
        }

        return condition with { Column = name, Values = condition.Values is null ? null : literals };
    }

    /// <summary>Whether a literal is written as a value of <paramref name="type"/> is (dates and times in quotes).</summary>
    public static bool Fits(QueryLiteral literal, ColumnType type) => (literal.Kind, type) switch
    {
        (LiteralKind.Text, ColumnType.String) => true,
        (LiteralKind.Text, ColumnType.Date) => ColumnValues.TryDate(literal.Text, out _),
        (LiteralKind.Text, ColumnType.Timestamp) => ColumnValues.TryTimestamp(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Int64) => SqlNumber(literal.Text) && ColumnValues.TryInt64(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Double) => SqlNumber(literal.Text) && ColumnValues.TryDouble(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Decimal) => SqlNumber(literal.Text) && ColumnValues.TryDecimal(literal.Text, out _),
        (LiteralKind.Bool, ColumnType.Bool) => literal.Text is "TRUE" or "FALSE",
        _ => false,
    };

    /// <summary>
    /// A structured query's value as the SQL form writes it for <paramref name="type"/>, so both
    /// forms check, run and print alike: text for strings, dates and times; a number as SQL writes one
    /// (NaN and infinities are not); TRUE or FALSE.
    /// </summary>
    private static QueryLiteral AsWritten(QueryLiteral value, ColumnType type) => type switch
    {
        ColumnType.Int64 or ColumnType.Double or ColumnType.Decimal => new QueryLiteral(LiteralKind.Number, value.Text),
        ColumnType.Bool => new QueryLiteral(LiteralKind.Bool, ColumnValues.TryBool(value.Text, out var flag) ? (flag ? "TRUE" : "FALSE") : value.Text),
        _ => new QueryLiteral(LiteralKind.Text, value.Text),
    };

    /// <summary>Whether <paramref name="text"/> is a number as the query language writes one: [-]digits[.digits][e[±]digits].</summary>
    private static bool SqlNumber(string text) => SqlNumberPattern().IsMatch(text);

    [System.Text.RegularExpressions.GeneratedRegex(@"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\z")]
    private static partial System.Text.RegularExpressions.Regex SqlNumberPattern();

    private static string Hint(ColumnType type) => type switch
    {
        ColumnType.String => " (text goes in single quotes)",
        ColumnType.Date => " (a date in quotes, '2026-12-01')",
        ColumnType.Timestamp => " (a time in quotes, '2026-12-01T08:30:00Z')",
        ColumnType.Bool => " (TRUE or FALSE)",
        _ => " (a number)",
    };

    /// <summary>The table's spelling of <paramref name="name"/>: exact, or the one column that matches ignoring case.</summary>
    private static string Resolved(IReadOnlyList<Column> columns, string name, string where)
    {
        if (columns.Any(c => c.Name == name))
        {
            return name;
        }

        var matches = columns.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 1
            ? matches[0].Name
            : throw Refusal.Invalid($"query: {where} names '{name}', which is not a column of the table.");
    }
}
