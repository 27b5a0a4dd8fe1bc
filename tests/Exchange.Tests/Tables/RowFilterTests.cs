using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

/// <summary>Each comparison operator on each type, and SQL's three-valued logic for nulls and values not of the column's type.</summary>
public sealed class RowFilterTests
{
    private static readonly Column[] Columns =
    [
        new() { Name = "s", Type = ColumnType.String },
        new() { Name = "i", Type = ColumnType.Int64 },
        new() { Name = "m", Type = ColumnType.Decimal },
        new() { Name = "d", Type = ColumnType.Double },
        new() { Name = "b", Type = ColumnType.Bool },
        new() { Name = "day", Type = ColumnType.Date },
        new() { Name = "at", Type = ColumnType.Timestamp },
    ];

    private static Predicate Compare(string column, ComparisonOperator op, params string[] values) =>
        new() { Comparison = new Comparison { Column = column, Operator = op, Values = { values } } };

    private static bool Keeps(Predicate filter, params string[] row) => new RowFilter(filter, Columns).Includes(new Row(Columns, row));

    [Theory]
    [InlineData("s", ComparisonOperator.Equal, "Bergen", "Bergen", true)]
    [InlineData("s", ComparisonOperator.Equal, "Bergen", "bergen", false)]
    [InlineData("s", ComparisonOperator.NotEqual, "Bergen", "Oslo", true)]
    [InlineData("s", ComparisonOperator.Less, "B", "A", true)]
    [InlineData("s", ComparisonOperator.Prefix, "Ber", "Bergen", true)]
    [InlineData("s", ComparisonOperator.Prefix, "ber", "Bergen", false)]
    [InlineData("i", ComparisonOperator.Less, "10", "9", true)]
    [InlineData("i", ComparisonOperator.LessOrEqual, "10", "10", true)]
    [InlineData("i", ComparisonOperator.Greater, "10", "10", false)]
    [InlineData("i", ComparisonOperator.GreaterOrEqual, "-5", "-4", true)]
    [InlineData("m", ComparisonOperator.Equal, "12.5", "12.50", true)]
    [InlineData("m", ComparisonOperator.Greater, "12.5", "12.51", true)]
    [InlineData("d", ComparisonOperator.Less, "1e3", "999.5", true)]
    [InlineData("b", ComparisonOperator.Equal, "true", "TRUE", true)]
    [InlineData("b", ComparisonOperator.NotEqual, "true", "false", true)]
    [InlineData("day", ComparisonOperator.GreaterOrEqual, "2026-01-01", "2026-01-01", true)]
    [InlineData("day", ComparisonOperator.Less, "2026-01-01", "2025-12-31", true)]
    [InlineData("at", ComparisonOperator.Equal, "2026-01-01T10:00:00Z", "2026-01-01T11:00:00+01:00", true)]
    [InlineData("at", ComparisonOperator.Greater, "2026-01-01T10:00:00Z", "2026-01-01T10:00:01Z", true)]
    public void A_comparison_compares_values_as_the_column_s_type(string column, ComparisonOperator op, string literal, string value, bool kept)
    {
        var row = Columns.Select(c => c.Name == column ? value : "").ToArray();
        Assert.Equal(kept, Keeps(Compare(column, op, literal), row));
    }

    [Fact]
    public void In_and_is_null_match_what_they_name()
    {
        Assert.True(Keeps(Compare("i", ComparisonOperator.In, "1", "3", "5"), "", "3"));
        Assert.False(Keeps(Compare("i", ComparisonOperator.In, "1", "3", "5"), "", "4"));
        Assert.True(Keeps(Compare("s", ComparisonOperator.In, "Oslo", "Bergen"), "Bergen"));
        Assert.True(Keeps(Compare("s", ComparisonOperator.IsNull), ""));
        Assert.False(Keeps(Compare("s", ComparisonOperator.IsNull), "x"));
    }

    [Fact]
    public void Null_and_invalid_values_are_unknown_and_only_a_true_filter_keeps_a_row()
    {
        var isOslo = Compare("s", ComparisonOperator.Equal, "Oslo");
        var notOslo = new Predicate { Not = isOslo };
        // A null city is neither Oslo nor not Oslo.
        Assert.False(Keeps(isOslo, ""));
        Assert.False(Keeps(notOslo, ""));
        Assert.True(Keeps(notOslo, "Bergen"));

        // "n/a" in a number column is no number: unknown, like null.
        var small = Compare("i", ComparisonOperator.Less, "10");
        Assert.False(Keeps(small, "", "n/a"));
        Assert.False(Keeps(new Predicate { Not = small }, "", "n/a"));

        // any: true wins over unknown; all: false wins over unknown, unknown over true.
        var any = new Predicate { Any = new PredicateList { Predicates = { isOslo, small } } };
        Assert.True(Keeps(any, "Oslo", "n/a"));
        Assert.False(Keeps(any, "Bergen", "n/a"));
        Assert.False(Keeps(new Predicate { Not = any }, "Bergen", "n/a"));
        var all = new Predicate { All = new PredicateList { Predicates = { isOslo, small } } };
        Assert.True(Keeps(all, "Oslo", "3"));
        Assert.False(Keeps(all, "Oslo", "n/a"));
        Assert.True(Keeps(new Predicate { Not = all }, "Bergen", "n/a"));

        // NaN compares with nothing: unknown, so neither below nor not below 100.
        var below = Compare("d", ComparisonOperator.Less, "100");
        Assert.False(Keeps(below, "", "", "", "NaN"));
        Assert.False(Keeps(new Predicate { Not = below }, "", "", "", "NaN"));
    }

    /// <summary>One row held in memory.</summary>
    private sealed class Row(IReadOnlyList<Column> columns, string[] values) : ITableReader
    {
        public IReadOnlyList<Column> Columns => columns;

        public ReadOnlySpan<char> this[int column] => column < values.Length ? values[column] : default;

        public bool Read() => false;

        public void Dispose()
        {
        }
    }
}
