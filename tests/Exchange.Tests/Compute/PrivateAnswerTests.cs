using DuckDB.NET.Data;
using Exchange.Server.Compute;
using Exchange.Server.Compute.Model;
using Exchange.V1;

namespace Exchange.Tests.Compute;

/// <summary>What a differentially private answer releases: a single group by the rule's minimum, at most an answer's rows, sums without inventing values.</summary>
public sealed class PrivateAnswerTests
{
    private static readonly Dictionary<string, TableColumn> Columns = new()
    {
        ["person"] = new("person", ColumnType.String, "c0"),
        ["city"] = new("city", ColumnType.String, "c1"),
        ["amount"] = new("amount", ColumnType.Int64, "c2"),
    };

    private static DuckDBConnection Table(IEnumerable<(string Person, string City, long? Amount)> rows)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE data (c0 VARCHAR, c1 VARCHAR, c2 BIGINT)";
            create.ExecuteNonQuery();
        }

        using var appender = connection.CreateAppender("data");
        foreach (var (person, city, amount) in rows)
        {
            appender.CreateRow().AppendValue(person).AppendValue(city).AppendValue(amount).EndRow();
        }

        return connection;
    }

    private static QueryAnswer Answer(DuckDBConnection table, string sql, long epsilonMillis, int seed, long lower = 0, CancellationToken cancellationToken = default)
    {
        var privacy = new DifferentialPrivacy { QueryEpsilonMillis = epsilonMillis, BudgetEpsilonMillis = epsilonMillis, MaxRowsPerIdentity = 1 };
        var rule = new AnalysisRule
        {
            Dimensions = { "city" },
            Aggregates = { new AggregateColumn { Column = "amount", Functions = { AggregateFunction.Sum }, Lower = lower, Upper = 100 } },
            IdentityColumn = "person",
            MinIdentities = 1,
            Privacy = privacy,
        };
        var query = AnalysisPolicy.Check(QueryParser.Parse(sql), rule, [.. Columns.Values.Select(c => new Column { Name = c.Name, Type = c.Type })]);
        return PrivateAnswer.Compute(table, Columns, rule, privacy, query, new SeededNoise(seed), [.. query.Outputs.Select(o => o.Name)], cancellationToken);
    }

    [Fact]
    public void Without_group_by_the_one_group_is_held_to_the_rule_s_minimum_not_the_threshold_for_groups_that_may_not_exist()
    {
        // Five people; the threshold for released groups at epsilon 1 would be 29. The one group exists whatever the data.
        using var table = Table(Enumerable.Range(0, 5).Select(i => ($"p{i}", "Bergen", (long?)10)));
        var released = Enumerable.Range(0, 200).Count(seed => Answer(table, "SELECT COUNT(*) FROM data", 1000, seed).Rows.Count == 1);
        Assert.True(released >= 190, $"released {released} of 200");
    }

    [Fact]
    public void An_answer_releasing_more_groups_than_an_answer_holds_is_cut_like_a_limit_not_refused()
    {
        // 10,050 groups of two people each; at epsilon 1000 the noise is all but nil and every group clears its threshold of 2.
        using var table = Table(Enumerable.Range(0, 10_050).SelectMany(g => new[] { ($"a{g}", $"c{g:D5}", (long?)1), ($"b{g}", $"c{g:D5}", (long?)1) }));
        var answer = Answer(table, "SELECT city, COUNT(*) FROM data GROUP BY city", 1_000_000, seed: 1);
        Assert.Equal(ComputeEngine.MaxRows, answer.Rows.Count);
        Assert.Null(answer.Suppressed);

        // Every group draws noise before any threshold: a caller who goes stops the work.
        Assert.Throws<OperationCanceledException>(() => Answer(table, "SELECT city, COUNT(*) FROM data GROUP BY city", 1_000_000, seed: 1,
            cancellationToken: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void A_missing_value_stays_out_of_a_clamped_sum()
    {
        // Clamped to [5, 100]: 1 counts as 5, 10 as 10, and the null as nothing (not as the lower bound).
        using var table = Table([("p0", "Bergen", null), ("p1", "Bergen", 1), ("p2", "Bergen", 10)]);
        var answer = Answer(table, "SELECT SUM(amount) FROM data", 1_000_000, seed: 3, lower: 5);
        Assert.Equal("15", answer.Rows.Single()[0]);
    }
}
