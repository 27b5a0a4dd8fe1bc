using System.Text;
using Exchange.Server.Compute.Model;

namespace Exchange.Server.Compute;

/// <summary>
/// A <see cref="Query"/> printed in one canonical form: keywords in capitals, names quoted only
/// where they must be, literals as parsed, conditions parenthesised where precedence needs it. Two
/// queries that parse to the same tree print the same, which is what the log records.
/// </summary>
internal static class QueryText
{
    public static string Print(Query query)
    {
        var text = new StringBuilder("SELECT ");
        text.AppendJoin(", ", query.Outputs.Select(Output));
        text.Append(" FROM data");
        if (query.Where is { } where)
        {
            text.Append(" WHERE ").Append(Condition(where));
        }

        if (query.GroupBy.Count > 0)
        {
            text.Append(" GROUP BY ").AppendJoin(", ", query.GroupBy.Select(Name));
        }

        if (query.OrderBy.Count > 0)
        {
            text.Append(" ORDER BY ").AppendJoin(", ", query.OrderBy.Select(o =>
                (o.Output + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + (o.Descending ? " DESC" : "")));
        }

        if (query.Limit is { } limit)
        {
            text.Append(" LIMIT ").Append(limit);
        }

        return text.ToString();
    }

    /// <summary>An aggregate as written in canonical form, e.g. COUNT(DISTINCT city); also the default name of its output.</summary>
    public static string Aggregate(Aggregate? function, string? column) => function switch
    {
        Model.Aggregate.CountAll => "COUNT(*)",
        Model.Aggregate.CountDistinct => $"COUNT(DISTINCT {Name(column!)})",
        { } f => $"{f.ToString().ToUpperInvariant()}({Name(column!)})",
        null => Name(column!),
    };

    /// <summary>A column or output name, in double quotes unless it is a plain word that is no keyword.</summary>
    public static string Name(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            && !QueryParser.Reserved.Contains(name)
            ? name
            : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Output(QueryOutput output)
    {
        var expression = Aggregate(output.Function, output.Column);
        var defaultName = output.IsDimension ? output.Column! : expression;
        return output.Name == defaultName ? expression : $"{expression} AS {Name(output.Name)}";
    }

    private static string Condition(Condition condition) => condition.Kind switch
    {
        ConditionKind.Compare => $"{Name(condition.Column)} {condition.Operator} {Literal(condition.Literals[0])}",
        ConditionKind.In => $"{Name(condition.Column)} {(condition.Negated ? "NOT IN" : "IN")} ({string.Join(", ", condition.Literals.Select(Literal))})",
        ConditionKind.IsNull => $"{Name(condition.Column)} IS {(condition.Negated ? "NOT NULL" : "NULL")}",
        ConditionKind.And => string.Join(" AND ", condition.Parts.Select(p => p.Kind == ConditionKind.Or ? $"({Condition(p)})" : Condition(p))),
        ConditionKind.Or => string.Join(" OR ", condition.Parts.Select(Condition)),
        ConditionKind.Not => condition.Parts[0].Kind is ConditionKind.And or ConditionKind.Or
            ? $"NOT ({Condition(condition.Parts[0])})"
            : $"NOT {Condition(condition.Parts[0])}",
        _ => throw new ArgumentOutOfRangeException(nameof(condition), condition.Kind, "Not a condition kind."),
    };

    private static string Literal(QueryLiteral literal) => literal.Kind == LiteralKind.Text
        ? "'" + literal.Text.Replace("'", "''", StringComparison.Ordinal) + "'"
        : literal.Text;
}
