using Exchange.Server;
using Exchange.Server.Compute;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Compute;

/// <summary>
/// The query language and the rule checker: every allowed form parses, keeps the rule and prints
/// canonically; every form outside the subset or the rule is INVALID_ARGUMENT naming what broke it.
/// </summary>
public sealed class QueryCheckTests
{
    private static readonly Column[] Columns =
    [
        new() { Name = "person", Type = ColumnType.String },
        new() { Name = "name", Type = ColumnType.String },
        new() { Name = "city", Type = ColumnType.String },
        new() { Name = "year", Type = ColumnType.Int64 },
        new() { Name = "amount", Type = ColumnType.Int64 },
        new() { Name = "price", Type = ColumnType.Decimal },
        new() { Name = "day", Type = ColumnType.Date },
        new() { Name = "member", Type = ColumnType.Bool },
        new() { Name = "order", Type = ColumnType.String },
    ];

    private static readonly AnalysisRule Rule = new()
    {
        Dimensions = { "city", "year", "day", "member", "order" },
        Aggregates =
        {
            new AggregateColumn { Column = "amount", Functions = { AggregateFunction.Sum, AggregateFunction.Avg, AggregateFunction.Count } },
            new AggregateColumn { Column = "price", Functions = { AggregateFunction.Min, AggregateFunction.Max } },
            new AggregateColumn { Column = "name", Functions = { AggregateFunction.CountDistinct } },
        },
        IdentityColumn = "person",
    };

    private static string Normalised(string sql) => QueryText.Print(AnalysisPolicy.Check(QueryParser.Parse(sql), Rule, Columns));

    private static string Refused(string sql)
    {
        var refusal = Assert.Throws<Refusal>(() => AnalysisPolicy.Check(QueryParser.Parse(sql), Rule, Columns));
        Assert.Equal(RefusalKind.InvalidArgument, refusal.Kind);
        return refusal.Message;
    }

    [Theory]
    [InlineData("SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city", "SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city")]
    [InlineData("select COUNT(*) from data", "SELECT COUNT(*) FROM data")]
    [InlineData("SELECT  sum(amount)  AS total FROM data WHERE city='Bergen'", "SELECT SUM(amount) AS total FROM data WHERE city = 'Bergen'")]
    [InlineData("SELECT City, count(distinct name) FROM data GROUP BY CITY", "SELECT city, COUNT(DISTINCT name) FROM data GROUP BY city")]
    [InlineData("SELECT MIN(price), MAX(price) FROM data WHERE year >= 2020 AND (city IN ('Oslo', 'Bergen') OR city IS NULL)",
        "SELECT MIN(price), MAX(price) FROM data WHERE year >= 2020 AND (city IN ('Oslo', 'Bergen') OR city IS NULL)")]
    [InlineData("SELECT year, COUNT(amount) FROM data WHERE NOT city <> 'Oslo' AND day < '2026-01-01' AND member = true GROUP BY year ORDER BY COUNT(amount) DESC, year LIMIT 5",
        "SELECT year, COUNT(amount) FROM data WHERE NOT city != 'Oslo' AND day < '2026-01-01' AND member = TRUE GROUP BY year ORDER BY 2 DESC, 1 LIMIT 5")]
    [InlineData("SELECT \"order\", COUNT(*) AS n FROM data WHERE \"order\" NOT IN ('it''s') GROUP BY \"order\" ORDER BY n",
        "SELECT \"order\", COUNT(*) AS n FROM data WHERE \"order\" NOT IN ('it''s') GROUP BY \"order\" ORDER BY 2")]
    [InlineData("SELECT SUM(amount) FROM data WHERE year = -3 AND city IS NOT NULL", "SELECT SUM(amount) FROM data WHERE year = -3 AND city IS NOT NULL")]
    public void An_allowed_query_is_checked_and_printed_in_one_canonical_form(string sql, string normalised)
    {
        Assert.Equal(normalised, Normalised(sql));
        // Printing is a fixed point: the normalised text parses to the same tree.
        Assert.Equal(normalised, Normalised(normalised));
    }

    [Theory]
    // Escapes from the subset: each named where it breaks.
    [InlineData("SELECT COUNT(*) FROM data; DROP TABLE data", "';'")]
    [InlineData("SELECT COUNT(*) FROM data -- hidden", "comments")]
    [InlineData("SELECT COUNT(*) /* x */ FROM data", "comments")]
    [InlineData("SELECT COUNT(*) FROM read_csv('/etc/passwd')", "'read_csv'")]
    [InlineData("SELECT * FROM data", "'*'")]
    [InlineData("COPY data TO '/tmp/x.csv'", "'COPY'")]
    [InlineData("ATTACH '/tmp/x.db' AS x", "'ATTACH'")]
    [InlineData("PRAGMA database_list", "'PRAGMA'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = 'x' OR '1'='1'", "found the string '1'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = 'x'; DROP TABLE data; --'", "';'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = E'\\x27'", "'E'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = 'unterminated", "never closed")]
    [InlineData("SELECT COUNT(*) FROM other", "'other'")]
    [InlineData("SELECT COUNT(*) FROM data, data", "joins")]
    [InlineData("SELECT COUNT(*) FROM data JOIN data USING (city)", "joins")]
    [InlineData("SELECT COUNT(*) FROM (SELECT * FROM data)", "subqueries")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city IN (SELECT city FROM data)", "subqueries")]
    [InlineData("SELECT SUM(amount) OVER () FROM data", "window")]
    [InlineData("SELECT COUNT(*) FROM data UNION SELECT COUNT(*) FROM data", "'UNION'")]
    [InlineData("SELECT upper(city) FROM data", "'upper'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE lower(city) = 'x'", "functions are not allowed")]
    [InlineData("SELECT SUM(amount * 2) FROM data", "'*'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = $1", "'$'")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city LIKE 'B%'", "'LIKE'")]
    [InlineData("SELECT COUNT(*) FROM data GROUP BY city HAVING COUNT(*) > 1", "HAVING")]
    [InlineData("SELECT COUNT(*) FROM data LIMIT 0", "LIMIT")]
    [InlineData("SELECT COUNT(*) FROM data WHERE city = city", "'city'")]
    // Outside the rule: named.
    [InlineData("SELECT name, COUNT(*) FROM data GROUP BY name", "'name' is not allowed")]
    [InlineData("SELECT city, COUNT(*) FROM data", "'city' is selected but not grouped on")]
    [InlineData("SELECT COUNT(*) FROM data WHERE person = 'p1'", "WHERE on 'person' is not allowed")]
    [InlineData("SELECT SUM(price) FROM data", "SUM(price) is not allowed: the rule allows MIN, MAX of 'price'")]
    [InlineData("SELECT AVG(year) FROM data", "'year' is not an aggregate column")]
    [InlineData("SELECT COUNT(DISTINCT person) FROM data", "'person' is not an aggregate column")]
    [InlineData("SELECT COUNT(*) FROM data WHERE nothing = 1", "'nothing', which is not a column")]
    [InlineData("SELECT COUNT(*) FROM data WHERE year = 'x'", "no INT64 value")]
    [InlineData("SELECT COUNT(*) FROM data WHERE day = '2026-13-01'", "no DATE value")]
    [InlineData("SELECT COUNT(*) FROM data WHERE member = 1", "no BOOL value")]
    public void A_query_outside_the_subset_or_the_rule_is_refused_naming_what_broke_it(string sql, string named) =>
        Assert.Contains(named, Refused(sql), StringComparison.Ordinal);

    [Fact]
    public void A_rule_is_validated_against_the_table()
    {
        string Invalid(AnalysisRule rule) => Assert.Throws<Refusal>(() => AnalysisRuleValidation.Validate(rule, Columns, "terms.analysis")).Message;

        Assert.Contains("'nope' is not a column", Invalid(new AnalysisRule { Dimensions = { "nope" } }), StringComparison.Ordinal);
        Assert.Contains("may not also be a dimension", Invalid(new AnalysisRule { Dimensions = { "person" }, IdentityColumn = "person" }), StringComparison.Ordinal);
        Assert.Contains("SUM needs a number", Invalid(new AnalysisRule { Aggregates = { new AggregateColumn { Column = "city", Functions = { AggregateFunction.Sum } } } }),
            StringComparison.Ordinal);
        var privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 };
        Assert.Contains("cannot be made differentially private", Invalid(new AnalysisRule
        {
            Aggregates = { new AggregateColumn { Column = "price", Functions = { AggregateFunction.Max } } },
            Privacy = privacy,
        }), StringComparison.Ordinal);
        Assert.Contains("lower < upper", Invalid(new AnalysisRule
        {
            Aggregates = { new AggregateColumn { Column = "amount", Functions = { AggregateFunction.Sum } } },
            Privacy = privacy,
        }), StringComparison.Ordinal);
        Assert.Contains("budget_epsilon_millis", Invalid(new AnalysisRule { Privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 50 } }),
            StringComparison.Ordinal);
        Assert.Contains("delta_exponent must be from 3 to 15", Invalid(new AnalysisRule { Privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 100, DeltaExponent = 2 } }),
            StringComparison.Ordinal);

        // The identity is never output: counting it is all a rule may allow.
        Assert.Contains("'person' is the identity column, never output", Invalid(new AnalysisRule
        {
            IdentityColumn = "person",
            Aggregates = { new AggregateColumn { Column = "person", Functions = { AggregateFunction.CountDistinct, AggregateFunction.Min } } },
        }), StringComparison.Ordinal);
        AnalysisRuleValidation.Validate(new AnalysisRule
        {
            IdentityColumn = "person",
            Aggregates = { new AggregateColumn { Column = "person", Functions = { AggregateFunction.CountDistinct } } },
        }, Columns, "terms.analysis");
        AnalysisRuleValidation.Validate(Rule, Columns, "terms.analysis");
    }

    [Fact]
    public void An_approval_may_narrow_a_rule_but_never_widen_it()
    {
        var requested = Rule.Clone();
        requested.Privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 1000 };
        Assert.Null(AnalysisRuleNarrowing.Widening(requested, requested, "terms.analysis"));

        var narrower = requested.Clone();
        narrower.Dimensions.Remove("year");
        narrower.MinIdentities = 20;
        narrower.Privacy.BudgetEpsilonMillis = 500;
        Assert.Null(AnalysisRuleNarrowing.Widening(requested, narrower, "terms.analysis"));

        AnalysisRule Changed(Action<AnalysisRule> change)
        {
            var rule = requested.Clone();
            change(rule);
            return rule;
        }

        Assert.Contains("'name' was not requested", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Dimensions.Add("name")), "a"), StringComparison.Ordinal);
        Assert.Contains("MIN of 'amount'", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Aggregates[0].Functions.Add(AggregateFunction.Min)), "a"), StringComparison.Ordinal);
        Assert.Contains("min_identities", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.MinIdentities = 5), "a"), StringComparison.Ordinal);
        Assert.Contains("may not be dropped", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Privacy = null), "a"), StringComparison.Ordinal);
        Assert.Contains("may not exceed", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Privacy.QueryEpsilonMillis = 200), "a"), StringComparison.Ordinal);
        Assert.Contains("identity_column", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.IdentityColumn = ""), "a"), StringComparison.Ordinal);
        Assert.Null(AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Privacy.DeltaExponent = 9), "a"));
        Assert.Contains("delta_exponent may not be below the requested 6", AnalysisRuleNarrowing.Widening(requested, Changed(r => r.Privacy.DeltaExponent = 4), "a"),
            StringComparison.Ordinal);
        Assert.Contains("did not ask for", AnalysisRuleNarrowing.Widening(null, requested, "a"), StringComparison.Ordinal);
    }

    private static Predicate Compare(string column, ComparisonOperator op, params string[] values) =>
        new() { Comparison = new Comparison { Column = column, Operator = op, Values = { values } } };

    private static StructuredQuery CountWhere(Predicate where) => new()
    {
        Outputs = { new StructuredQuery.Types.Output { Function = AggregateFunction.Count } },
        Where = where,
    };

    [Fact]
    public void A_structured_filter_takes_values_as_its_columns_write_them_and_prints_as_sql()
    {
        string Printed(Predicate where) => QueryText.Print(AnalysisPolicy.Check(ComputeMapping.FromProto(CountWhere(where)), Rule, Columns));

        Assert.Equal("SELECT COUNT(*) FROM data WHERE year = 2020 AND member = TRUE AND day < '2026-01-01' AND (city IN ('Oslo', 'it''s') OR NOT city IS NULL)",
            Printed(new Predicate
            {
                All = new PredicateList
                {
                    Predicates =
                    {
                        Compare("year", ComparisonOperator.Equal, "2020"),
                        Compare("member", ComparisonOperator.Equal, "true"),
                        Compare("day", ComparisonOperator.Less, "2026-01-01"),
                        new Predicate
                        {
                            Any = new PredicateList
                            {
                                Predicates = { Compare("city", ComparisonOperator.In, "Oslo", "it's"), new Predicate { Not = Compare("city", ComparisonOperator.IsNull) } },
                            },
                        },
                    },
                },
            }));

        foreach (var (where, named) in new[]
        {
            (Compare("year", ComparisonOperator.Equal, "NaN"), "NaN is no INT64 value"),
            (Compare("year", ComparisonOperator.Equal, "007"), "007 is no INT64 value"),
            (Compare("member", ComparisonOperator.Equal, "yes"), "is no BOOL value"),
            (Compare("year", ComparisonOperator.Equal, "1", "2"), "compares with one value, not 2"),
            (Compare("year", ComparisonOperator.In), "IN needs at least one value"),
            (new Predicate(), "structured.where is empty"),
            (new Predicate { All = new PredicateList() }, "structured.where.all needs at least one predicate"),
        })
        {
            var refusal = Assert.Throws<Refusal>(() => AnalysisPolicy.Check(ComputeMapping.FromProto(CountWhere(where)), Rule, Columns));
            Assert.Equal(RefusalKind.InvalidArgument, refusal.Kind);
            Assert.Contains(named, refusal.Message, StringComparison.Ordinal);
        }
    }
}
