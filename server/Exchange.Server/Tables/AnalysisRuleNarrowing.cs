using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>How analysis rules compare: an approval may narrow a requested rule (fewer columns and functions, a higher minimum, less epsilon), never widen it.</summary>
internal static class AnalysisRuleNarrowing
{
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
                return $"{field}.aggregates: {AnalysisRuleValidation.Name(function)} of '{aggregate.Column}' was not requested.";
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

            if (AnalysisRules.DeltaExponent(given) < AnalysisRules.DeltaExponent(wanted))
            {
                return $"{field}.privacy.delta_exponent may not be below the requested {AnalysisRules.DeltaExponent(wanted)} (a larger delta).";
            }
        }

        return null;
    }
}
