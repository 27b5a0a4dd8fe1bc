using System.Globalization;
using Exchange.Server.Compute.Model;

namespace Exchange.Server.Compute;

/// <summary>
/// Parses the query language (see RunQueryRequest.sql) into a <see cref="Query"/> by recursive
/// descent. It knows only the grammar; what a grant's rule allows is <see cref="AnalysisPolicy"/>'s.
/// Anything outside the grammar is INVALID_ARGUMENT naming the token where it went wrong, so an
/// attempt to reach beyond the subset (another table, a function, a subquery) is never run.
/// </summary>
internal sealed class QueryParser
{
    /// <summary>Words that are part of the grammar, so a column with such a name must be written in double quotes.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "AND", "OR", "NOT", "IN", "IS", "NULL", "AS", "ASC", "DESC",
        "DISTINCT", "TRUE", "FALSE", "HAVING", "JOIN", "UNION", "OFFSET", "OVER", "FILTER", "ALL", "ON", "USING", "WITH",
    };

    private static readonly Dictionary<string, Aggregate> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["COUNT"] = Model.Aggregate.Count,
        ["SUM"] = Model.Aggregate.Sum,
        ["AVG"] = Model.Aggregate.Avg,
        ["MIN"] = Model.Aggregate.Min,
        ["MAX"] = Model.Aggregate.Max,
    };

    /// <summary>A result larger than this is no aggregate answer; a bound LIMIT keeps the number exact.</summary>
    public const long MaxLimit = 1_000_000;

    /// <summary>Bounds the recursion of nested conditions.</summary>
    private const int MaxDepth = 16;

    private readonly List<QueryToken> _tokens;
    private int _next;

    private QueryParser(List<QueryToken> tokens) => _tokens = tokens;

    private QueryToken Current => _tokens[_next];

    public static Query Parse(string sql)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw Refusal.Invalid("sql is required: one SELECT of aggregates FROM data.");
        }

        return new QueryParser(QueryTokenizer.Tokenize(sql)).Query();
    }

    private Query Query()
    {
        if (!Current.Is("SELECT"))
        {
            throw Fail($"a query starts with SELECT, not {Current.Quoted}; only aggregate SELECTs over 'data' are allowed");
        }

        _next++;
        if (Current.Is("DISTINCT") || Current.Is("ALL"))
        {
            throw Fail($"{Current.Quoted} is not allowed after SELECT; aggregates are grouped by GROUP BY");
        }

        var outputs = new List<QueryOutput> { Output() };
        while (Accept(","))
        {
            outputs.Add(Output());
        }

        Expect("FROM", "after the outputs");
        Table();

        Condition? where = null;
        if (AcceptWord("WHERE"))
        {
            where = Or(0);
        }

        var groupBy = new List<string>();
        if (AcceptWord("GROUP"))
        {
            Expect("BY", "after GROUP");
            groupBy.Add(ColumnName("in GROUP BY"));
            while (Accept(","))
            {
                groupBy.Add(ColumnName("in GROUP BY"));
            }
        }

        if (Current.Is("HAVING"))
        {
            throw Fail("HAVING is not allowed; filter with WHERE on dimension columns");
        }

        var orderBy = new List<QueryOrder>();
        if (AcceptWord("ORDER"))
        {
            Expect("BY", "after ORDER");
            orderBy.Add(Order(outputs));
            while (Accept(","))
            {
                orderBy.Add(Order(outputs));
            }
        }

        long? limit = null;
        if (AcceptWord("LIMIT"))
        {
            var token = Current;
            if (token.Kind != QueryTokenKind.Number || !long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > MaxLimit)
            {
                throw Fail($"LIMIT takes a whole number from 1 to {MaxLimit}, not {token.Quoted}");
            }

            _next++;
            limit = n;
        }

        if (Current.Kind != QueryTokenKind.End)
        {
            throw Fail(Current.Is("UNION") || Current.Is("OFFSET") || Current.Is("WITH")
                ? $"{Current.Quoted} is not allowed"
                : $"unexpected {Current.Quoted}; the query should end here");
        }

        return new Query(outputs, where, groupBy, orderBy, limit);
    }

    private QueryOutput Output()
    {
        var token = Current;
        if (token.IsSymbol("*"))
        {
            throw Fail($"{token.Quoted} would select rows; select aggregates such as COUNT(*) and the dimensions you group on");
        }

        if (token.IsSymbol("(") || token.Is("SELECT"))
        {
            throw Fail($"subqueries are not allowed ({token.Quoted})");
        }

        QueryOutput output;
        if (token.Kind == QueryTokenKind.Word && _tokens[_next + 1].IsSymbol("("))
        {
            output = AggregateOutput(token);
        }
        else
        {
            var column = ColumnName("in SELECT");
            output = new QueryOutput(column, column, null);
        }

        if (Current.Is("OVER") || Current.Is("FILTER"))
        {
            throw Fail($"window functions and aggregate filters are not allowed ({Current.Quoted})");
        }

        if (AcceptWord("AS"))
        {
            var alias = Current;
            if (alias.Kind == QueryTokenKind.QuotedName || (alias.Kind == QueryTokenKind.Word && !Reserved.Contains(alias.Value)))
            {
                _next++;
                return output with { Name = alias.Value };
            }

            throw Fail($"AS takes a name for the output, not {alias.Quoted}");
        }

        return output;
    }

    private QueryOutput AggregateOutput(QueryToken name)
    {
        if (!Functions.TryGetValue(name.Value, out var function))
        {
            throw Fail($"the function {name.Quoted} is not allowed; only COUNT, SUM, AVG, MIN and MAX (and COUNT(DISTINCT ...))");
        }

        _next += 2;
        string? column;
        if (function == Model.Aggregate.Count && Accept("*"))
        {
            function = Model.Aggregate.CountAll;
            column = null;
        }
        else
        {
            if (AcceptWord("DISTINCT"))
            {
                if (function != Model.Aggregate.Count)
                {
                    throw Fail($"DISTINCT is allowed only in COUNT(DISTINCT column), not in {name.Value.ToUpperInvariant()}");
                }

                function = Model.Aggregate.CountDistinct;
            }

            if (Current.IsSymbol("(") || Current.Is("SELECT"))
            {
                throw Fail($"subqueries and expressions are not allowed inside {name.Value.ToUpperInvariant()}() ({Current.Quoted}); name one column");
            }

            column = ColumnName($"in {name.Value.ToUpperInvariant()}()");
        }

        if (!Accept(")"))
        {
            throw Fail($"expected ')' after the column of {name.Value.ToUpperInvariant()}, found {Current.Quoted}; an aggregate takes one column, no expression");
        }

        var printed = QueryText.Aggregate(function, column);
        return new QueryOutput(printed, column, function);
    }

    private void Table()
    {
        var token = Current;
        if (token.IsSymbol("(") || token.Is("SELECT"))
        {
            throw Fail($"subqueries are not allowed ({token.Quoted}); query FROM data");
        }

        if (!(token.Is("data") || (token.Kind == QueryTokenKind.QuotedName && token.Value == "data")))
        {
            var what = token.Kind == QueryTokenKind.Word && _tokens[_next + 1].IsSymbol("(") ? "the table function" : "the table";
            throw Fail($"{what} {token.Quoted} is not allowed; a query reads only 'data', the grant's table");
        }

        _next++;
        if (Current.IsSymbol(",") || Current.Is("JOIN") || Current.Is("NATURAL") || Current.Is("CROSS") || Current.Is("INNER")
            || Current.Is("LEFT") || Current.Is("RIGHT") || Current.Is("FULL") || Current.Is("POSITIONAL") || Current.Is("ASOF"))
        {
            throw Fail($"joins are not allowed ({Current.Quoted}); a query reads only 'data'");
        }

        if (Current.Kind is QueryTokenKind.Word or QueryTokenKind.QuotedName && !Current.Is("WHERE") && !Current.Is("GROUP")
            && !Current.Is("ORDER") && !Current.Is("LIMIT") && !Current.Is("HAVING"))
        {
            throw Fail($"unexpected {Current.Quoted} after FROM data (table aliases are not needed)");
        }
    }

    private QueryOrder Order(List<QueryOutput> outputs)
    {
        var token = Current;
        int index;
        if (token.Kind == QueryTokenKind.Number)
        {
            if (!int.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal) || ordinal < 1 || ordinal > outputs.Count)
            {
                throw Fail($"ORDER BY {token.Quoted}: a position counts the outputs from 1 to {outputs.Count}");
            }

            _next++;
            index = ordinal - 1;
        }
        else
        {
            string name;
            if (token.Kind == QueryTokenKind.Word && _tokens[_next + 1].IsSymbol("("))
            {
                name = AggregateOutput(token).Name;
                index = outputs.FindIndex(o => o.Function is not null && o.Name == name || QueryText.Aggregate(o.Function, o.Column) == name);
            }
            else
            {
                name = ColumnName("in ORDER BY");
                index = outputs.FindIndex(o => o.Name == name);
                if (index < 0)
                {
                    index = outputs.FindIndex(o => o.IsDimension && o.Column == name);
                }
            }

            if (index < 0)
            {
                throw Fail($"ORDER BY {token.Quoted} is not one of the query's outputs; order by an output's name, its aggregate or its position");
            }
        }

        var descending = false;
        if (AcceptWord("DESC"))
        {
            descending = true;
        }
        else
        {
            AcceptWord("ASC");
        }

        return new QueryOrder(index, descending);
    }

    private Condition Or(int depth)
    {
        var parts = new List<Condition> { And(depth) };
        while (AcceptWord("OR"))
        {
            parts.Add(And(depth));
        }

        return parts.Count == 1 ? parts[0] : new Condition(ConditionKind.Or, Children: parts);
    }

    private Condition And(int depth)
    {
        var parts = new List<Condition> { Unary(depth) };
        while (AcceptWord("AND"))
        {
            parts.Add(Unary(depth));
        }

        return parts.Count == 1 ? parts[0] : new Condition(ConditionKind.And, Children: parts);
    }

    private Condition Unary(int depth)
    {
        if (depth > MaxDepth)
        {
            throw Fail($"conditions nest deeper than {MaxDepth} levels");
        }

        if (AcceptWord("NOT"))
        {
            return new Condition(ConditionKind.Not, Children: [Unary(depth + 1)]);
        }

        if (Accept("("))
        {
            if (Current.Is("SELECT"))
            {
                throw Fail($"subqueries are not allowed ({Current.Quoted})");
            }

            var inner = Or(depth + 1);
            if (!Accept(")"))
            {
                throw Fail($"expected ')' to close the condition, found {Current.Quoted}");
            }

            return inner;
        }

        if (Current.Kind == QueryTokenKind.Word && _tokens[_next + 1].IsSymbol("("))
        {
            throw Fail($"functions are not allowed in WHERE ({Current.Quoted}); compare a dimension column with a literal");
        }

        var column = ColumnName("in WHERE");
        if (AcceptWord("IS"))
        {
            var negated = AcceptWord("NOT");
            Expect("NULL", negated ? "after IS NOT" : "after IS");
            return new Condition(ConditionKind.IsNull, column, Negated: negated);
        }

        var notIn = AcceptWord("NOT");
        if (AcceptWord("IN"))
        {
            if (!Accept("("))
            {
                throw Fail($"expected '(' after IN, found {Current.Quoted}");
            }

            if (Current.Is("SELECT"))
            {
                throw Fail($"subqueries are not allowed ({Current.Quoted})");
            }

            var values = new List<QueryLiteral> { Literal(column) };
            while (Accept(","))
            {
                values.Add(Literal(column));
            }

            if (!Accept(")"))
            {
                throw Fail($"expected ')' to close IN (...), found {Current.Quoted}");
            }

            return new Condition(ConditionKind.In, column, Values: values, Negated: notIn);
        }

        if (notIn)
        {
            throw Fail($"expected IN after '{column} NOT', found {Current.Quoted}");
        }

        var op = Current;
        if (op.Kind != QueryTokenKind.Symbol || op.Value is not ("=" or "!=" or "<>" or "<" or "<=" or ">" or ">="))
        {
            throw Fail(op.Is("LIKE") || op.Is("ILIKE") || op.Is("SIMILAR") || op.Is("GLOB") || op.Is("BETWEEN")
                ? $"{op.Quoted} is not allowed; use = != < <= > >= IN or IS NULL"
                : $"expected a comparison (= != < <= > >= IN IS) after '{column}', found {op.Quoted}");
        }

        _next++;
        var literal = Literal(column);
        return new Condition(ConditionKind.Compare, column, op.Value == "<>" ? "!=" : op.Value, [literal]);
    }

    private QueryLiteral Literal(string column)
    {
        var token = Current;
        switch (token.Kind)
        {
            case QueryTokenKind.Text:
                _next++;
                return new QueryLiteral(LiteralKind.Text, token.Value);
            case QueryTokenKind.Number:
                _next++;
                return new QueryLiteral(LiteralKind.Number, token.Value);
            case QueryTokenKind.Symbol when token.Value == "-" && _tokens[_next + 1].Kind == QueryTokenKind.Number:
                _next += 2;
                return new QueryLiteral(LiteralKind.Number, "-" + _tokens[_next - 1].Value);
            case QueryTokenKind.Word when token.Is("TRUE") || token.Is("FALSE"):
                _next++;
                return new QueryLiteral(LiteralKind.Bool, token.Value.ToUpperInvariant());
            default:
                throw Fail($"'{column}' is compared with a literal ('text', a number, TRUE or FALSE), not {token.Quoted}");
        }
    }

    private string ColumnName(string where)
    {
        var token = Current;
        if (token.Kind == QueryTokenKind.QuotedName)
        {
            _next++;
            return token.Value;
        }

        if (token.Kind == QueryTokenKind.Word && !Reserved.Contains(token.Value))
        {
            _next++;
            return token.Value;
        }

        throw Fail($"expected a column name {where}, found {token.Quoted}" +
            (token.Kind == QueryTokenKind.Word ? " (a column named like a keyword goes in double quotes)" : ""));
    }

    private bool Accept(string symbol)
    {
        if (Current.IsSymbol(symbol))
        {
            _next++;
            return true;
        }

        return false;
    }

    private bool AcceptWord(string keyword)
    {
        if (Current.Is(keyword))
        {
            _next++;
            return true;
        }

        return false;
    }

    private void Expect(string keyword, string where)
    {
        if (!AcceptWord(keyword))
        {
            throw Fail($"expected {keyword} {where}, found {Current.Quoted}");
        }
    }

    private static Refusal Fail(string message) => Refusal.Invalid($"sql: {message}.");
}
