using System.Numerics;
using DuckDB.NET.Data;
using Exchange.Server.Compute;
using Exchange.V1;

namespace Exchange.Tests.Compute;

/// <summary>
/// The differencing attack on the engine's private answers: the same query over two tables that
/// differ by one person's rows, answered with noise under many seeds. The attacker, knowing both
/// tables, guesses which one each answer came from; it may not be right more often than ε allows.
/// </summary>
public sealed class DifferencingTests
{
    private static readonly Dictionary<string, TableColumn> Columns = new()
    {
        ["person"] = new("person", ColumnType.String, "c0"),
        ["city"] = new("city", ColumnType.String, "c1"),
        ["amount"] = new("amount", ColumnType.Int64, "c2"),
    };

    private static DuckDBConnection Table(bool withTarget)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE data (c0 VARCHAR, c1 VARCHAR, c2 BIGINT)";
        create.ExecuteNonQuery();
        using var appender = connection.CreateAppender("data");
        for (var person = withTarget ? 0 : 1; person < 40; person++)
        {
            // The target (person 0) has five rows of 900: a contribution bound of one row, clamped to [0, 1000], hides it as well as any.
            for (var row = 0; row < (person == 0 ? 5 : 2); row++)
            {
                appender.CreateRow().AppendValue($"p{person}").AppendValue("Bergen").AppendValue((long?)(person == 0 ? 900 : 100)).EndRow();
            }
        }

        return connection;
    }

    [Theory]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = 'Bergen'")]
    [InlineData("SELECT SUM(amount) FROM data WHERE city = 'Bergen'")]
    public void One_person_s_rows_are_not_revealed_beyond_what_epsilon_allows(string sql)
    {
        var privacy = new DifferentialPrivacy { QueryEpsilonMillis = 1000, BudgetEpsilonMillis = 1000, MaxRowsPerIdentity = 1 };
        var rule = new AnalysisRule
        {
            Dimensions = { "city" },
            Aggregates = { new AggregateColumn { Column = "amount", Functions = { AggregateFunction.Sum }, Lower = 0, Upper = 1000 } },
            IdentityColumn = "person",
            MinIdentities = 1,
            Privacy = privacy,
        };
        var query = AnalysisPolicy.Check(QueryParser.Parse(sql), rule, [.. Columns.Values.Select(c => new Column { Name = c.Name, Type = c.Type })]);
        using var without = Table(withTarget: false);
        using var with = Table(withTarget: true);

        const int Seeds = 1500;
        var seen = new[] { new Dictionary<string, int>(), new Dictionary<string, int>() };
        for (var seed = 0; seed < Seeds; seed++)
        {
            foreach (var (world, connection) in new[] { (0, without), (1, with) })
            {
                var answer = PrivateAnswer.Compute(connection, Columns, rule, privacy, query, new SeededNoise((seed * 2) + world), ["x"]);
                // A suppressed answer is an answer too: the attacker sees that.
                var released = answer.Rows.Count == 0 ? "suppressed" : answer.Rows[0][0]!;
                // Coarsened to buckets so both worlds' frequencies can be compared; a coarser view never helps the attacker more.
                var key = released == "suppressed" ? released : (BigInteger.Parse(released) / (sql.Contains("SUM") ? 500 : 1)).ToString();
                seen[world][key] = seen[world].GetValueOrDefault(key) + 1;
            }
        }

        var right = seen[0].Keys.Union(seen[1].Keys).Sum(v => Math.Max(seen[0].GetValueOrDefault(v), seen[1].GetValueOrDefault(v)));
        var accuracy = right / (2.0 * Seeds);
        var bound = Math.E / (1 + Math.E);
        // The slack covers the attacker's rule being fitted to these very samples (about 3 standard errors).
        Assert.True(accuracy <= bound + 0.04, $"the attacker was right {accuracy:P1} of the time; epsilon 1 allows {bound:P1}");
    }

    [Fact]
    public void Under_privacy_a_group_only_one_person_makes_is_not_released_and_how_many_were_left_out_is_not_told()
    {
        // 40 people, each alone under their own name (a dimension that singles them out), and 200 more under one shared name.
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE data (c0 VARCHAR, c1 VARCHAR, c2 BIGINT)";
            create.ExecuteNonQuery();
        }

        using (var appender = connection.CreateAppender("data"))
        {
            for (var person = 0; person < 240; person++)
            {
                appender.CreateRow().AppendValue($"p{person}").AppendValue(person < 40 ? $"name{person}" : "shared").AppendValue((long?)100).EndRow();
            }
        }

        var privacy = new DifferentialPrivacy { QueryEpsilonMillis = 1000, BudgetEpsilonMillis = 1000, MaxRowsPerIdentity = 1, DeltaExponent = 9 };
        var rule = new AnalysisRule { Dimensions = { "city" }, IdentityColumn = "person", MinIdentities = 1, Privacy = privacy };
        var query = AnalysisPolicy.Check(QueryParser.Parse("SELECT city, COUNT(*) FROM data GROUP BY city"), rule,
            [.. Columns.Values.Select(c => new Column { Name = c.Name, Type = c.Type })]);

        // Two measures (the identities, COUNT), scale b = 2: τ = 1 + ⌈2 · ln(1 / 10^-9)⌉ = 43, not the rule's minimum of 1.
        Assert.Equal(43, PrivateAnswer.Threshold(1, 1, 2, privacy));
        using (connection)
        {
            for (var seed = 0; seed < 500; seed++)
            {
                var answer = PrivateAnswer.Compute(connection, Columns, rule, privacy, query, new SeededNoise(seed), ["city", "count"]);
                Assert.Equal(["shared"], answer.Rows.Select(r => r[0]));
                Assert.Null(answer.Suppressed);
            }
        }
    }
}
