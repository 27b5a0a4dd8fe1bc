using System.Globalization;
using System.Text;
using Exchange.Server.Compute.Model;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Server.Compute;

/// <summary>
/// The engine's SQL for a checked <see cref="Query"/>, generated from the tree: the table is
/// always <c>data</c>, columns are the engine's own generated names (c0, c1, …, never text the
/// caller wrote), every literal is a bound parameter, and the only functions are the ones written
/// here. So no query text of a caller's ever reaches the engine.
/// </summary>
internal sealed class QuerySql
{
    private readonly List<(string Name, object Value)> _parameters = [];
    private readonly IReadOnlyDictionary<string, TableColumn> _columns;

    private QuerySql(IReadOnlyDictionary<string, TableColumn> columns) => _columns = columns;

    /// <summary>The statement's text.</summary>
    public string Text { get; private set; } = "";

    public IReadOnlyList<(string Name, object Value)> Parameters => _parameters;

    /// <summary>
    /// Exact aggregates per group, with <c>k</c> (distinct identities, or rows) and, over all groups,
    /// <c>s</c>: how many fall under <paramref name="minimum"/>. Only groups at or above it come back,
    /// ordered as asked and then by every output, so equal answers are equal bytes.
    /// </summary>
    public static QuerySql Exact(Query query, AnalysisRule rule, IReadOnlyDictionary<string, TableColumn> columns, long minimum)
    {
        var sql = new QuerySql(columns);
        var text = new StringBuilder("SELECT ");
        for (var i = 0; i < query.Outputs.Count; i++)
        {
            text.Append(sql.Expression(query.Outputs[i], clamp: null)).Append(" AS o").Append(i).Append(", ");
        }

        text.Append(sql.IdentityCount(rule)).Append(" AS k, ");
        var min = sql.Bind(minimum);
        text.Append("CAST(SUM(CASE WHEN ").Append(sql.IdentityCount(rule)).Append(" < ").Append(min).Append(" THEN 1 ELSE 0 END) OVER () AS BIGINT) AS s FROM data");
        sql.AppendFilterAndGroups(text, query);
        text.Append(" QUALIFY k >= ").Append(min);
        text.Append(" ORDER BY ").Append(string.Join(", ", Ordering(query)));
        if (query.Limit is { } limit)
        {
            text.Append(" LIMIT ").Append(sql.Bind(limit));
        }

        sql.Text = text.ToString();
        return sql;
    }

    /// <summary>The number of groups the query forms (all suppressed, when <see cref="Exact"/> returned none).</summary>
    public static QuerySql Groups(Query query, IReadOnlyDictionary<string, TableColumn> columns)
    {
        var sql = new QuerySql(columns);
        var text = new StringBuilder("SELECT COUNT(*) FROM (SELECT 1 FROM data");
        sql.AppendFilterAndGroups(text, query);
        text.Append(')');
        sql.Text = text.ToString();
        return sql;
    }

    /// <summary>
    /// For differential privacy: every group with the measures its outputs need (o{i} for an output;
    /// an AVG as o{i} its clamped sum and n{i} its count), <c>k</c> distinct identities, each
    /// identity held to its first <paramref name="maxRows"/> rows and each summed value clamped to
    /// the rule's range. Thresholds, noise, order and limit are applied to the noisy values after.
    /// </summary>
    public static QuerySql Bounded(Query query, AnalysisRule rule, IReadOnlyDictionary<string, TableColumn> columns, long maxRows)
    {
        var sql = new QuerySql(columns);
        var text = new StringBuilder("WITH b AS (SELECT * FROM data");
        if (query.Where is { } where)
        {
            text.Append(" WHERE ").Append(sql.Condition(where));
        }

        if (rule.IdentityColumn.Length > 0)
        {
            // Rows of no known identity cannot be bounded per identity (one partition would hold them
            // all, and who is in it would move rows between groups): they do not count under privacy.
            text.Append(query.Where is null ? " WHERE " : " AND ").Append(columns[rule.IdentityColumn].EngineName).Append(" IS NOT NULL");

            // Storage order decides which rows of an identity count: fixed per revision, so repeating a query spends budget without choosing rows.
            text.Append(" QUALIFY row_number() OVER (PARTITION BY ").Append(columns[rule.IdentityColumn].EngineName)
                .Append(" ORDER BY rowid) <= ").Append(sql.Bind(maxRows));
        }

        text.Append(") SELECT ");
        for (var i = 0; i < query.Outputs.Count; i++)
        {
            var output = query.Outputs[i];
            var bounds = output.Column is { } c ? rule.Aggregates.FirstOrDefault(a => a.Column == c) : null;
            text.Append(sql.Expression(output with { Function = output.Function == Aggregate.Avg ? Aggregate.Sum : output.Function }, bounds))
                .Append(" AS o").Append(i).Append(", ");
            if (output.Function == Aggregate.Avg)
            {
                text.Append("COUNT(").Append(columns[output.Column!].EngineName).Append(") AS n").Append(i).Append(", ");
            }
        }

        text.Append(sql.IdentityCount(rule)).Append(" AS k FROM b");
        if (query.GroupBy.Count > 0)
        {
            text.Append(" GROUP BY ").Append(string.Join(", ", query.GroupBy.Select(g => columns[g].EngineName)));
        }

        sql.Text = text.ToString();
        return sql;
    }

    private static IEnumerable<string> Ordering(Query query)
    {
        var asked = query.OrderBy.Select(o => $"o{o.Output} {(o.Descending ? "DESC" : "ASC")} NULLS LAST");
        var rest = Enumerable.Range(0, query.Outputs.Count).Where(i => query.OrderBy.All(o => o.Output != i)).Select(i => $"o{i} ASC NULLS LAST");
        return asked.Concat(rest);
    }

    private void AppendFilterAndGroups(StringBuilder text, Query query)
    {
        if (query.Where is { } where)
        {
            text.Append(" WHERE ").Append(Condition(where));
        }

        if (query.GroupBy.Count > 0)
        {
            text.Append(" GROUP BY ").Append(string.Join(", ", query.GroupBy.Select(g => _columns[g].EngineName)));
        }
    }

    private string IdentityCount(AnalysisRule rule) =>
        rule.IdentityColumn.Length > 0 ? $"COUNT(DISTINCT {_columns[rule.IdentityColumn].EngineName})" : "COUNT(*)";

    private string Expression(QueryOutput output, AggregateColumn? clamp)
    {
        if (output.Function is null)
        {
            return _columns[output.Column!].EngineName;
        }

        var column = output.Column is { } name ? _columns[name].EngineName : "";
        if (clamp is not null && output.Function == Aggregate.Sum)
        {
            // GREATEST and LEAST pass over a null; a missing value must stay missing, not become the lower bound.
            column = $"CASE WHEN {column} IS NULL THEN NULL ELSE LEAST(GREATEST({column}, {Bind(clamp.Lower)}), {Bind(clamp.Upper)}) END";
        }

        return output.Function switch
        {
            Aggregate.CountAll => "COUNT(*)",
            Aggregate.Count => $"COUNT({column})",
            Aggregate.CountDistinct => $"COUNT(DISTINCT {column})",
            Aggregate.Sum => $"SUM({column})",
            Aggregate.Avg => $"AVG({column})",
            Aggregate.Min => $"MIN({column})",
            Aggregate.Max => $"MAX({column})",
            _ => throw new ArgumentOutOfRangeException(nameof(output), output.Function, "Not an aggregate."),
        };
    }

    private string Condition(Condition condition)
    {
        switch (condition.Kind)
        {
            case ConditionKind.And:
                return "(" + string.Join(" AND ", condition.Parts.Select(Condition)) + ")";
            case ConditionKind.Or:
                return "(" + string.Join(" OR ", condition.Parts.Select(Condition)) + ")";
            case ConditionKind.Not:
                return "(NOT " + Condition(condition.Parts[0]) + ")";
        }

        var column = _columns[condition.Column];
        var name = column.EngineName;
        return condition.Kind switch
        {
            ConditionKind.IsNull => $"({name} IS {(condition.Negated ? "NOT NULL" : "NULL")})",
            ConditionKind.In => $"({name} {(condition.Negated ? "NOT IN" : "IN")} ({string.Join(", ", condition.Literals.Select(l => Literal(l, column.Type)))}))",
            _ => $"({name} {condition.Operator} {Literal(condition.Literals[0], column.Type)})",
        };
    }

    /// <summary>A bound parameter holding the literal as the column's type (checked to fit by <see cref="AnalysisPolicy"/>).</summary>
    private string Literal(QueryLiteral literal, ColumnType type)
    {
        var text = literal.Text;
        return type switch
        {
            ColumnType.Int64 when ColumnValues.TryInt64(text, out var integer) => Bind(integer),
            ColumnType.Double when ColumnValues.TryDouble(text, out var number) => Bind(number),
            ColumnType.Decimal when ColumnValues.TryDecimal(text, out var fixedPoint) => $"CAST({Bind(ColumnValues.Text(fixedPoint))} AS DECIMAL(38,10))",
            ColumnType.Bool => Bind(string.Equals(text, "TRUE", StringComparison.OrdinalIgnoreCase)),
            ColumnType.Date when ColumnValues.TryDate(text, out var date) => $"CAST({Bind(ColumnValues.Text(date))} AS DATE)",
            ColumnType.Timestamp when ColumnValues.TryTimestamp(text, out var time) =>
                $"CAST({Bind(time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture))} AS TIMESTAMP)",
            ColumnType.String => Bind(text),
            _ => throw new InvalidOperationException($"A literal of a {type} column was not checked before SQL was generated."),
        };
    }

    private string Bind(object value)
    {
        var name = "p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add((name, value));
        return "$" + name;
    }
}
