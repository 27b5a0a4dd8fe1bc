using Exchange.Cli;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>The CLI's view syntax becomes the predicate and mask messages, and reads back the same.</summary>
public sealed class ViewSyntaxTests
{
    private static Predicate Where(string text) => ViewSyntax.Parse(null, text, [])!.RowFilter;

    private static Predicate Compare(string column, ComparisonOperator op, params string[] values) =>
        new() { Comparison = new Comparison { Column = column, Operator = op, Values = { values } } };

    [Theory]
    [InlineData("city = Bergen", "city", ComparisonOperator.Equal, "Bergen")]
    [InlineData("city != 'New York'", "city", ComparisonOperator.NotEqual, "New York")]
    [InlineData("income<50000", "income", ComparisonOperator.Less, "50000")]
    [InlineData("income <= 1.5", "income", ComparisonOperator.LessOrEqual, "1.5")]
    [InlineData("day > 2026-01-01", "day", ComparisonOperator.Greater, "2026-01-01")]
    [InlineData("at >= '2026-01-01 10:00:00'", "at", ComparisonOperator.GreaterOrEqual, "2026-01-01 10:00:00")]
    [InlineData("name prefix 'O''Brien'", "name", ComparisonOperator.Prefix, "O'Brien")]
    public void A_comparison_is_a_column_an_operator_and_a_value(string text, string column, ComparisonOperator op, string value) =>
        Assert.Equal(Compare(column, op, value), Where(text));

    [Fact]
    public void In_is_null_and_the_logic_words_nest_as_written()
    {
        Assert.Equal(Compare("city", ComparisonOperator.In, "Oslo", "Bergen", "a, b"), Where("city in (Oslo, Bergen, 'a, b')"));
        Assert.Equal(Compare("note", ComparisonOperator.IsNull), Where("note is null"));
        Assert.Equal(new Predicate { Not = Compare("note", ComparisonOperator.IsNull) }, Where("note IS NOT NULL"));

        // and binds tighter than or; parentheses and not as written.
        var expected = new Predicate
        {
            Any = new PredicateList
            {
                Predicates =
                {
                    new Predicate { All = new PredicateList { Predicates = { Compare("a", ComparisonOperator.Equal, "1"), Compare("b", ComparisonOperator.Equal, "2") } } },
                    new Predicate { Not = Compare("c", ComparisonOperator.Equal, "3") },
                },
            },
        };
        Assert.Equal(expected, Where("a = 1 and b = 2 or not c = 3"));
        Assert.Equal(expected, Where("(a = 1 and (b = 2)) or (not (c = 3))"));
        Assert.Equal("where a = 1 and b = 2 or not c = 3", ViewSyntax.Describe(new View { RowFilter = expected }).Replace("(", "").Replace(")", ""));
    }

    [Theory]
    [InlineData("city =", "a value is missing at its end")]
    [InlineData("city Bergen", "after 'city' comes an operator")]
    [InlineData("(city = Bergen", "a ')' is missing")]
    [InlineData("city = 'Bergen", "a quote is not closed")]
    [InlineData("city in Oslo", "takes a list")]
    [InlineData("note is empty", "must be followed by null or not null")]
    [InlineData("a = 1 b = 2", "unexpected 'b'")]
    public void A_malformed_where_says_what_is_wrong(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => Where(text)).Message);

    [Fact]
    public void Columns_and_masks_read_as_written()
    {
        var view = ViewSyntax.Parse("id, city", null, ["birth_date=year", "day=month", "email=hash", "name=truncate:2", "income=bucket:1000", "ssn=redact"])!;
        Assert.Equal(["id", "city"], view.Columns);
        Assert.Equal(
            [(MaskKind.Generalise, DateUnit.Year, 0, ""), (MaskKind.Generalise, DateUnit.Month, 0, ""), (MaskKind.Hash, DateUnit.Unspecified, 0, ""),
             (MaskKind.Truncate, DateUnit.Unspecified, 2, ""), (MaskKind.Bucket, DateUnit.Unspecified, 0, "1000"), (MaskKind.Redact, DateUnit.Unspecified, 0, "")],
            view.Masks.Select(m => (m.Kind, m.Unit, m.Length, m.Width)));
        Assert.Equal("columns id,city; mask birth_date=year; mask day=month; mask email=hash; mask name=truncate:2; mask income=bucket:1000; mask ssn=redact",
            ViewSyntax.Describe(view));
        Assert.Null(ViewSyntax.Parse(null, " ", []));
        Assert.Contains("the kind is redact, hash", Assert.Throws<FormatException>(() => ViewSyntax.Parse(null, null, ["x=scramble"])).Message);
    }
}
