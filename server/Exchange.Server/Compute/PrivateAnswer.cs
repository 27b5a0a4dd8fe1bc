using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using Exchange.Server.Compute.Model;
using Exchange.V1;

namespace Exchange.Server.Compute;

/// <summary>
/// A differentially private answer. Each identity's contribution is bounded in the SQL (its first
/// max_rows_per_identity rows, each summed value clamped to the rule's range), so one identity
/// changes each measure, over all groups together, by at most its sensitivity Δ; every measure
/// then gets discrete Laplace noise of scale Δ / (ε / m), m being the number of measures (one per
/// COUNT or SUM, two per AVG, one for the identities behind the group that the threshold is
/// decided on). Thresholds (<see cref="Threshold"/>), order and limit then apply to the noisy values only.
/// </summary>
internal static class PrivateAnswer
{
    public static QueryAnswer Compute(DuckDBConnection connection, IReadOnlyDictionary<string, TableColumn> columns, AnalysisRule rule,
        DifferentialPrivacy privacy, Query query, INoiseSource noise, List<string> names, CancellationToken cancellationToken = default)
    {
        var maxRows = Tables.AnalysisRules.MaxRowsPerIdentity(privacy);
        var measures = 1 + query.Outputs.Sum(o => o.Function switch { null => 0, Aggregate.Avg => 2, _ => 1 });
        // Scale = Δ · m / ε with ε = millis / 1000: numerator Δ · m · 1000, denominator millis.
        BigInteger Noise(BigInteger sensitivity) =>
            DiscreteLaplace.Sample(noise, sensitivity * measures * 1000, privacy.QueryEpsilonMillis);

        var sums = query.Outputs.Select(o => o.Column is { } c && rule.Aggregates.FirstOrDefault(a => a.Column == c) is { } bounds
            ? maxRows * BigInteger.Max(BigInteger.Abs(bounds.Lower), BigInteger.Abs(bounds.Upper))
            : BigInteger.Zero).ToList();
        // Without GROUP BY there is one group whatever the data, so its being there tells nothing: the rule's minimum is enough.
        var minimum = query.GroupBy.Count == 0
            ? Tables.AnalysisRules.MinIdentities(rule)
            : Threshold(Tables.AnalysisRules.MinIdentities(rule), maxRows, measures, privacy);
        var kept = new List<(object?[] Keys, string?[] Row)>();
        var sql = QuerySql.Bounded(query, rule, columns, maxRows);
        using var command = ComputeEngine.Command(connection, sql);
        using var reader = command.ExecuteReader();
        var identities = reader.GetOrdinal("k");
        var groups = 0L;
        while (reader.Read())
        {
            // Every group draws noise before any threshold: a query over many groups stops when its caller does.
            if ((++groups & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var k = Integer(reader.GetValue(identities)) + Noise(maxRows);
            var row = new string?[query.Outputs.Count];
            var keys = new object?[query.Outputs.Count];
            for (var i = 0; i < row.Length; i++)
            {
                var output = query.Outputs[i];
                var value = reader.GetValue(reader.GetOrdinal("o" + i.ToString(CultureInfo.InvariantCulture)));
                switch (output.Function)
                {
                    case null:
                        keys[i] = value is DBNull ? null : value;
                        row[i] = ComputeEngine.Text(value, columns[output.Column!].Type);
                        break;
                    case Aggregate.Sum:
                        var sum = Integer(value) + Noise(sums[i]);
                        (keys[i], row[i]) = (sum, sum.ToString(CultureInfo.InvariantCulture));
                        break;
                    case Aggregate.Avg:
                        var total = Integer(value) + Noise(sums[i]);
                        var count = BigInteger.Max(BigInteger.One, Integer(reader.GetValue(reader.GetOrdinal("n" + i.ToString(CultureInfo.InvariantCulture)))) + Noise(maxRows));
                        var average = (double)total / (double)count;
                        (keys[i], row[i]) = (average, ComputeEngine.Text(average, null));
                        break;
                    case Aggregate.Count or Aggregate.CountAll or Aggregate.CountDistinct:
                        // A negative count is no answer anyone could have had; clamping is post-processing, free of privacy cost.
                        var noisy = BigInteger.Max(BigInteger.Zero, Integer(value) + Noise(maxRows));
                        (keys[i], row[i]) = (noisy, noisy.ToString(CultureInfo.InvariantCulture));
                        break;
                    default:
                        // MIN and MAX have no noise that makes them private; the rule check refuses them before this.
                        throw new InvalidOperationException($"{output.Function} has no differentially private form.");
                }
            }

            if (k < minimum)
            {
                continue;
            }

            kept.Add((keys, row));
        }

        kept.Sort((a, b) => Compare(a.Keys, b.Keys, query));
        // At most MaxRows, cut after the noisy order like a LIMIT: refusing instead would answer, without spending, whether
        // more groups cleared the threshold than that.
        var rows = kept.Select(k => k.Row).Take((int)Math.Min(query.Limit ?? long.MaxValue, ComputeEngine.MaxRows)).ToList();

        // How many groups fell under the threshold is not told: with the rows released it would be the exact number of groups.
        return new QueryAnswer(names, rows, null);
    }

    /// <summary>
    /// The noisy count of identities a group needs to be released. Which groups exist depends on
    /// the data: one identity may alone make up to max_rows groups (true count 1 each). With noise
    /// of scale b on the count, such a group clears τ with chance below e^-(τ-1)/b, so τ = 1 + b·ln(max_rows/δ)
    /// keeps the chance that any of them is released under δ; never below the rule's minimum.
    /// </summary>
    public static long Threshold(long minimum, long maxRows, int measures, V1.DifferentialPrivacy privacy)
    {
        var scale = (double)maxRows * measures * 1000 / privacy.QueryEpsilonMillis;
        var log = Math.Log(maxRows) + (Tables.AnalysisRules.DeltaExponent(privacy) * Math.Log(10));
        return Math.Max(minimum, 1 + (long)Math.Ceiling(scale * log));
    }

    private static BigInteger Integer(object value) => value switch
    {
        DBNull => BigInteger.Zero,
        BigInteger big => big,
        _ => new BigInteger(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
    };

    private static int Compare(object?[] a, object?[] b, Query query)
    {
        foreach (var order in query.OrderBy)
        {
            var c = CompareValues(a[order.Output], b[order.Output]);
            if (c != 0)
            {
                return order.Descending ? -c : c;
            }
        }

        for (var i = 0; i < a.Length; i++)
        {
            var c = CompareValues(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private static int CompareValues(object? a, object? b) => (a, b) switch
    {
        (null, null) => 0,
        // As the exact answers: nulls last.
        (null, _) => 1,
        (_, null) => -1,
        (string x, string y) => string.CompareOrdinal(x, y),
        (IComparable x, _) => x.CompareTo(b),
        _ => 0,
    };
}
