using Exchange.Server.Compute.Model;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Server.Compute;

/// <summary>
/// Analysis rules: their shape against a table, how an approval may narrow one, and whether a
/// parsed query keeps one. Pure functions; each refusal is INVALID_ARGUMENT naming what broke the rule.
/// </summary>
internal static class AnalysisPolicy
{
    public const int MaxColumns = 256;
    public const long MaxEpsilonMillis = 1_000_000;
    public const long MaxRowsPerIdentity = 1000;

    /// <summary>Throws unless <paramref name="rule"/> fits <paramref name="columns"/> (null: the latest revision is no table).</summary>
    public static void ValidateFor(AnalysisRule rule, IReadOnlyList<Column>? columns, string dataset, string field)
    {
        if (columns is null)
        {
            throw Refusal.Precondition($"{field}: an analysis rule queries a table, and the latest revision of '{dataset}' is not a table.");
        }

        Validate(rule, columns, field);
    }

    public static void Validate(AnalysisRule rule, IReadOnlyList<Column> columns, string field)
    {
        if (rule.Aggregates.Count + rule.Dimensions.Count > MaxColumns)
        {
            throw Refusal.Invalid($"{field} names more than {MaxColumns} columns.");
        }

        var dimensions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dimension in rule.Dimensions)
        {
            ColumnOf(columns, dimension, $"{field}.dimensions");
            if (!dimensions.Add(dimension))
            {
                throw Refusal.Invalid($"{field}.dimensions lists '{dimension}' twice.");
            }
        }

        if (rule.IdentityColumn.Length > 0)
        {
            ColumnOf(columns, rule.IdentityColumn, $"{field}.identity_column");
            if (dimensions.Contains(rule.IdentityColumn))
            {
                throw Refusal.Invalid($"{field}.identity_column '{rule.IdentityColumn}' may not also be a dimension: grouping on whose a row is would isolate them.");
            }
        }

        if (rule.MinIdentities is < 0 or > 1_000_000)
        {
            throw Refusal.Invalid($"{field}.min_identities must be from 1 to 1000000 (0: {AnalysisRules.DefaultMinIdentities}), not {rule.MinIdentities}.");
        }

        var privacy = rule.Privacy;
        if (privacy is not null)
        {
            if (privacy.QueryEpsilonMillis is <= 0 or > MaxEpsilonMillis)
            {
                throw Refusal.Invalid($"{field}.privacy.query_epsilon_millis must be from 1 to {MaxEpsilonMillis} (thousandths of epsilon), not {privacy.QueryEpsilonMillis}.");
            }

            if (privacy.BudgetEpsilonMillis < privacy.QueryEpsilonMillis || privacy.BudgetEpsilonMillis > MaxEpsilonMillis * 1000)
            {
                throw Refusal.Invalid($"{field}.privacy.budget_epsilon_millis must cover at least one query ({privacy.QueryEpsilonMillis}), not {privacy.BudgetEpsilonMillis}.");
            }

            if (privacy.MaxRowsPerIdentity is < 0 or > MaxRowsPerIdentity)
            {
                throw Refusal.Invalid($"{field}.privacy.max_rows_per_identity must be from 1 to {MaxRowsPerIdentity} (0: 1), not {privacy.MaxRowsPerIdentity}.");
            }
        }

        var aggregated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var aggregate in rule.Aggregates)
        {
            var column = ColumnOf(columns, aggregate.Column, $"{field}.aggregates");
            if (!aggregated.Add(aggregate.Column))
            {
                throw Refusal.Invalid($"{field}.aggregates lists '{aggregate.Column}' twice.");
            }

            if (aggregate.Functions.Count == 0)
            {
                throw Refusal.Invalid($"{field}.aggregates: '{aggregate.Column}' needs at least one function.");
            }

            foreach (var function in aggregate.Functions)
            {
                if (function == AggregateFunction.Unspecified || !Enum.IsDefined(function))
                {
                    throw Refusal.Invalid($"{field}.aggregates: '{aggregate.Column}' has an unknown function ({(int)function}).");
                }

                if (function is AggregateFunction.Sum or AggregateFunction.Avg && column.Type is not (ColumnType.Int64 or ColumnType.Double or ColumnType.Decimal))
                {
                    throw Refusal.Invalid($"{field}.aggregates: {Name(function)} needs a number, and '{aggregate.Column}' is {ColumnValues.TypeName(column.Type)}.");
                }

                if (privacy is null)
                {
                    continue;
                }

                if (function is AggregateFunction.Min or AggregateFunction.Max)
                {
                    throw Refusal.Invalid($"{field}.aggregates: {Name(function)} of '{aggregate.Column}' cannot be made differentially private; " +
                        "leave it out of a rule with privacy.");
                }

                if (function is AggregateFunction.Sum or AggregateFunction.Avg)
                {
                    if (column.Type != ColumnType.Int64)
                    {
                        throw Refusal.Invalid($"{field}.aggregates: with privacy, {Name(function)} takes an INT64 column (the noise is on integers), " +
                            $"and '{aggregate.Column}' is {ColumnValues.TypeName(column.Type)}.");
                    }

                    if (aggregate.Lower >= aggregate.Upper)
                    {
                        throw Refusal.Invalid($"{field}.aggregates: with privacy, '{aggregate.Column}' needs lower < upper, the range each value is clamped to.");
                    }
                }
            }

            if (aggregate.Functions.Distinct().Count() != aggregate.Functions.Count)
            {
                throw Refusal.Invalid($"{field}.aggregates: '{aggregate.Column}' lists a function twice.");
            }
        }
    }

    /// <summary>Why <paramref name="approved"/> allows more than <paramref name="requested"/>, or null when it narrows it (or is the same).</summary>
    public static string? Widening(AnalysisRule? requested, AnalysisRule? approved, string field)
    {
        if (approved is null)
        {
            return null;
        }

        if (requested is null)
        {
            return $"{field} allows queries the request did not ask for.";
        }

        var dimension = approved.Dimensions.FirstOrDefault(d => !requested.Dimensions.Contains(d));
        if (dimension is not null)
        {
            return $"{field}.dimensions may only narrow the request; '{dimension}' was not requested.";
        }

        foreach (var aggregate in approved.Aggregates)
        {
            var asked = requested.Aggregates.FirstOrDefault(a => a.Column == aggregate.Column);
            if (asked is null)
            {
                return $"{field}.aggregates may only narrow the request; '{aggregate.Column}' was not requested.";
            }

            var function = aggregate.Functions.FirstOrDefault(f => !asked.Functions.Contains(f));
            if (function != AggregateFunction.Unspecified)
            {
                return $"{field}.aggregates: {Name(function)} of '{aggregate.Column}' was not requested.";
            }

            if (requested.Privacy is not null && (aggregate.Lower < asked.Lower || aggregate.Upper > asked.Upper))
            {
                return $"{field}.aggregates: the range of '{aggregate.Column}' may only narrow the requested [{asked.Lower}, {asked.Upper}].";
            }
        }

        if (approved.IdentityColumn != requested.IdentityColumn)
        {
            return $"{field}.identity_column must stay '{requested.IdentityColumn}', as requested.";
        }

        if (AnalysisRules.MinIdentities(approved) < AnalysisRules.MinIdentities(requested))
        {
            return $"{field}.min_identities may not be lower than the requested {AnalysisRules.MinIdentities(requested)}.";
        }

        if (requested.Privacy is { } wanted)
        {
            var given = approved.Privacy;
            if (given is null)
            {
                return $"{field}.privacy may not be dropped: the request asked for differential privacy.";
            }

            if (given.QueryEpsilonMillis > wanted.QueryEpsilonMillis || given.BudgetEpsilonMillis > wanted.BudgetEpsilonMillis)
            {
                return $"{field}.privacy: epsilon per query and budget may not exceed the requested {wanted.QueryEpsilonMillis} and {wanted.BudgetEpsilonMillis} thousandths.";
            }

            if (AnalysisRules.MaxRowsPerIdentity(given) > AnalysisRules.MaxRowsPerIdentity(wanted))
            {
                return $"{field}.privacy.max_rows_per_identity may not exceed the requested {AnalysisRules.MaxRowsPerIdentity(wanted)}.";
            }
        }

        return null;
    }

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
                : throw Refusal.Invalid($"sql: {where} '{column}' is not allowed: only the rule's dimension columns " +
                    $"({(dimensions.Count == 0 ? "none" : string.Join(", ", rule.Dimensions))}) may be grouped on or filtered on.");
        }

        var groupBy = query.GroupBy.Select(g => Dimension(g, "GROUP BY")).ToList();
        if (groupBy.Distinct(StringComparer.Ordinal).Count() != groupBy.Count)
        {
            throw Refusal.Invalid("sql: GROUP BY names a column twice.");
        }

        var outputs = new List<QueryOutput>();
        foreach (var output in query.Outputs)
        {
            if (output.IsDimension)
            {
                var column = Dimension(output.Column!, "selecting");
                if (!groupBy.Contains(column))
                {
                    throw Refusal.Invalid($"sql: '{column}' is selected but not grouped on; a query outputs aggregates and the dimensions it groups by.");
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
                throw Refusal.Invalid($"sql: {printed} is not allowed: '{aggregated}' is not an aggregate column of the rule " +
                    $"({(rule.Aggregates.Count == 0 ? "only COUNT(*) is allowed" : string.Join(", ", rule.Aggregates.Select(a => a.Column)))}).");
            }

            if (!allowed.Functions.Contains(function))
            {
                throw Refusal.Invalid($"sql: {printed} is not allowed: the rule allows {string.Join(", ", allowed.Functions.Select(Name))} of '{aggregated}'.");
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

    public static string Name(AggregateFunction function) => function switch
    {
        AggregateFunction.CountDistinct => "COUNT DISTINCT",
        _ => function.ToString().ToUpperInvariant(),
    };

    private static Condition CheckCondition(Condition condition, IReadOnlyList<Column> columns, Func<string, string> dimension)
    {
        if (condition.Kind is ConditionKind.And or ConditionKind.Or or ConditionKind.Not)
        {
            return condition with { Children = [.. condition.Parts.Select(p => CheckCondition(p, columns, dimension))] };
        }

        var name = dimension(condition.Column);
        var column = columns.First(c => c.Name == name);
        foreach (var literal in condition.Literals)
        {
            if (!Fits(literal, column.Type))
            {
                var written = literal.Kind == LiteralKind.Text ? $"'{literal.Text}'" : literal.Text;
                throw Refusal.Invalid($"sql: {written} is no {ColumnValues.TypeName(column.Type)} value, which '{name}' holds" + Hint(column.Type) + ".");
            }
        }

        return condition with { Column = name };
    }

    /// <summary>Whether a literal is written as a value of <paramref name="type"/> is (dates and times in quotes).</summary>
    public static bool Fits(QueryLiteral literal, ColumnType type) => (literal.Kind, type) switch
    {
        (LiteralKind.Text, ColumnType.String) => true,
        (LiteralKind.Text, ColumnType.Date) => ColumnValues.TryDate(literal.Text, out _),
        (LiteralKind.Text, ColumnType.Timestamp) => ColumnValues.TryTimestamp(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Int64) => ColumnValues.TryInt64(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Double) => ColumnValues.TryDouble(literal.Text, out _),
        (LiteralKind.Number, ColumnType.Decimal) => ColumnValues.TryDecimal(literal.Text, out _),
        (LiteralKind.Bool, ColumnType.Bool) => true,
        _ => false,
    };

    private static string Hint(ColumnType type) => type switch
    {
        ColumnType.String => " (text goes in single quotes)",
        ColumnType.Date => " (a date in quotes, '2026-12-01')",
        ColumnType.Timestamp => " (a time in quotes, '2026-12-01T08:30:00Z')",
        ColumnType.Bool => " (TRUE or FALSE)",
        _ => " (a number)",
    };

    private static Column ColumnOf(IReadOnlyList<Column> columns, string name, string field) =>
        columns.FirstOrDefault(c => c.Name == name)
        ?? throw Refusal.Invalid($"{field}: '{name}' is not a column of the table ({string.Join(", ", columns.Select(c => c.Name))}).");

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
            : throw Refusal.Invalid($"sql: {where} names '{name}', which is not a column of the table.");
    }
}
