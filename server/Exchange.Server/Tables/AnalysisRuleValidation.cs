using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// The shape of an analysis rule (Terms.analysis) against a table: its columns exist, its functions
/// suit their types, its privacy parameters can work. Checked wherever a rule is given, as a view is.
/// </summary>
internal static class AnalysisRuleValidation
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

            if (privacy.DeltaExponent is < 0 or (> 0 and < 3) or > 15)
            {
                throw Refusal.Invalid($"{field}.privacy.delta_exponent must be from 3 to 15 (delta = 10^-n; 0: 6), not {privacy.DeltaExponent}.");
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

            if (aggregate.Column == rule.IdentityColumn && aggregate.Functions.Any(f => f is not (AggregateFunction.Count or AggregateFunction.CountDistinct)))
            {
                throw Refusal.Invalid($"{field}.aggregates: '{aggregate.Column}' is the identity column, never output: it may only be counted (COUNT, COUNT DISTINCT).");
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

    public static string Name(AggregateFunction function) => function switch
    {
        AggregateFunction.CountDistinct => "COUNT DISTINCT",
        _ => function.ToString().ToUpperInvariant(),
    };

    private static Column ColumnOf(IReadOnlyList<Column> columns, string name, string field) =>
        columns.FirstOrDefault(c => c.Name == name)
        ?? throw Refusal.Invalid($"{field}: '{name}' is not a column of the table ({string.Join(", ", columns.Select(c => c.Name))}).");
}
