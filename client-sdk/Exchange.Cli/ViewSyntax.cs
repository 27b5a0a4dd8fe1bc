using System.Text;
using Exchange.V1;

namespace Exchange.Cli;

/// <summary>
/// The CLI's small syntax for a view, turned into the <see cref="View"/> message (the gateway
/// never sees text, only the message):
/// <c>--columns id,city</c>; <c>--where "city = Bergen and (income &gt;= 50000 or income is null)"</c>
/// with <c>= != &lt; &lt;= &gt; &gt;=</c>, <c>in (a, b)</c>, <c>prefix x</c>, <c>is null</c>,
/// <c>is not null</c>, <c>and</c>, <c>or</c>, <c>not</c> and parentheses (values are bare words or
/// 'quoted', with '' for a quote); <c>--mask birth_date=year</c> with redact, hash, truncate:N,
/// month, year or bucket:W.
/// </summary>
internal static class ViewSyntax
{
    /// <summary>The view the options give, or null when none was given.</summary>
    public static View? Parse(string? columns, string? where, IReadOnlyList<string> masks)
    {
        if (string.IsNullOrWhiteSpace(columns) && string.IsNullOrWhiteSpace(where) && masks.Count == 0)
        {
            return null;
        }

        var view = new View();
        if (!string.IsNullOrWhiteSpace(columns))
        {
            view.Columns.Add(columns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }

        if (!string.IsNullOrWhiteSpace(where))
        {
            view.RowFilter = new Parser(where).Parse();
        }

        view.Masks.Add(masks.Select(Mask));
        return view;
    }

    /// <summary>A view written back in this syntax, for printing terms.</summary>
    public static string Describe(View view)
    {
        var parts = new List<string>();
        if (view.Columns.Count > 0)
        {
            parts.Add("columns " + string.Join(",", view.Columns));
        }

        if (view.RowFilter is { } filter)
        {
            parts.Add("where " + Describe(filter, top: true));
        }

        parts.AddRange(view.Masks.Select(m => "mask " + m.Column + "=" + m.Kind switch
        {
            MaskKind.Truncate => $"truncate:{m.Length}",
            MaskKind.Generalise => m.Unit == DateUnit.Year ? "year" : "month",
            MaskKind.Bucket => $"bucket:{m.Width}",
            _ => m.Kind.ToString().ToLowerInvariant(),
        }));
        return string.Join("; ", parts);
    }

    private static Mask Mask(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new FormatException($"--mask '{text}' is not column=kind, e.g. birth_date=year or email=hash.");
        }

        var mask = new Mask { Column = text[..equals].Trim() };
        var kind = text[(equals + 1)..].Trim().ToLowerInvariant();
        var (name, argument) = kind.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? (kind[..colon], kind[(colon + 1)..]) : (kind, "");
        switch (name)
        {
            case "redact":
                mask.Kind = MaskKind.Redact;
                break;
            case "hash":
                mask.Kind = MaskKind.Hash;
                break;
            case "month" or "year":
                (mask.Kind, mask.Unit) = (MaskKind.Generalise, name == "year" ? DateUnit.Year : DateUnit.Month);
                break;
            case "truncate" when int.TryParse(argument, out var length):
                (mask.Kind, mask.Length) = (MaskKind.Truncate, length);
                break;
            case "bucket" when argument.Length > 0:
                (mask.Kind, mask.Width) = (MaskKind.Bucket, argument);
                break;
            default:
                throw new FormatException($"--mask '{text}': the kind is redact, hash, truncate:N, month, year or bucket:W.");
        }

        return mask;
    }

    private static string Describe(Predicate predicate, bool top = false)
    {
        string Group(IEnumerable<Predicate> operands, string joiner) =>
            (top ? "" : "(") + string.Join(joiner, operands.Select(p => Describe(p))) + (top ? "" : ")");
        return predicate.KindCase switch
        {
            Predicate.KindOneofCase.All => Group(predicate.All.Predicates, " and "),
            Predicate.KindOneofCase.Any => Group(predicate.Any.Predicates, " or "),
            Predicate.KindOneofCase.Not => "not " + Describe(predicate.Not),
            _ => Describe(predicate.Comparison),
        };
    }

    private static string Describe(Comparison c) => c.Operator switch
    {
        ComparisonOperator.IsNull => $"{c.Column} is null",
        ComparisonOperator.In => $"{c.Column} in ({string.Join(", ", c.Values.Select(Quote))})",
        ComparisonOperator.Prefix => $"{c.Column} prefix {Quote(c.Values[0])}",
        _ => $"{c.Column} {Symbol(c.Operator)} {Quote(c.Values[0])}",
    };

    private static string Symbol(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        _ => ">=",
    };

    private static string Quote(string value) =>
        value.Length > 0 && value.All(c => !char.IsWhiteSpace(c) && c is not ('(' or ')' or ',' or '\''))
            ? value
            : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A recursive-descent parser over the tokens of a --where text.</summary>
    private sealed class Parser(string text)
    {
        private readonly List<(string Text, bool Quoted)> _tokens = Tokens(text);
        private int _at;

        public Predicate Parse()
        {
            var predicate = Or();
            return _at == _tokens.Count ? predicate : throw Error($"unexpected '{_tokens[_at].Text}'");
        }

        private Predicate Or()
        {
            var operands = new List<Predicate> { And() };
            while (Keyword("or"))
            {
                operands.Add(And());
            }

            return operands.Count == 1 ? operands[0] : new Predicate { Any = new PredicateList { Predicates = { operands } } };
        }

        private Predicate And()
        {
            var operands = new List<Predicate> { Not() };
            while (Keyword("and"))
            {
                operands.Add(Not());
            }

            return operands.Count == 1 ? operands[0] : new Predicate { All = new PredicateList { Predicates = { operands } } };
        }

        private Predicate Not() => Keyword("not") ? new Predicate { Not = Not() } : Atom();

        private Predicate Atom()
        {
            if (Keyword("("))
            {
                var inner = Or();
                return Keyword(")") ? inner : throw Error("a ')' is missing");
            }

            var column = Value("a column name");
            var comparison = new Comparison { Column = column };
            if (Keyword("is"))
            {
                var negated = Keyword("not");
                if (!Keyword("null"))
                {
                    throw Error($"'{column} is' must be followed by null or not null");
                }

                comparison.Operator = ComparisonOperator.IsNull;
                var isNull = new Predicate { Comparison = comparison };
                return negated ? new Predicate { Not = isNull } : isNull;
            }

            if (Keyword("in"))
            {
                comparison.Operator = ComparisonOperator.In;
                if (!Keyword("("))
                {
                    throw Error($"'{column} in' takes a list: in (a, b)");
                }

                do
                {
                    comparison.Values.Add(Value("a value"));
                }
                while (Keyword(","));

                return Keyword(")") ? new Predicate { Comparison = comparison } : throw Error("a ')' is missing after the in list");
            }

            comparison.Operator = Keyword("prefix") ? ComparisonOperator.Prefix : Operator(column);
            comparison.Values.Add(Value("a value"));
            return new Predicate { Comparison = comparison };
        }

        private ComparisonOperator Operator(string column)
        {
            var token = _at < _tokens.Count && !_tokens[_at].Quoted ? _tokens[_at].Text : "";
            ComparisonOperator? op = token switch
            {
                "=" => ComparisonOperator.Equal,
                "!=" => ComparisonOperator.NotEqual,
                "<" => ComparisonOperator.Less,
                "<=" => ComparisonOperator.LessOrEqual,
                ">" => ComparisonOperator.Greater,
                ">=" => ComparisonOperator.GreaterOrEqual,
                _ => null,
            };
            _at += op is null ? 0 : 1;
            return op ?? throw Error($"after '{column}' comes an operator (= != < <= > >= in prefix is){(token.Length > 0 ? $", not '{token}'" : "")}");
        }

        private string Value(string what)
        {
            if (_at >= _tokens.Count)
            {
                throw Error($"{what} is missing at its end");
            }

            var (token, quoted) = _tokens[_at];
            if (!quoted && token is "(" or ")" or "," or "=" or "!=" or "<" or "<=" or ">" or ">=")
            {
                throw Error($"{what} is missing before '{token}'");
            }

            _at++;
            return token;
        }

        /// <summary>Takes the next token when it is <paramref name="word"/> unquoted (words in any case).</summary>
        private bool Keyword(string word)
        {
            if (_at < _tokens.Count && !_tokens[_at].Quoted && _tokens[_at].Text.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                _at++;
                return true;
            }

            return false;
        }

        private FormatException Error(string problem) => new($"--where '{text}': {problem}.");

        private static List<(string, bool)> Tokens(string text)
        {
            var tokens = new List<(string, bool)>();
            for (var i = 0; i < text.Length;)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c is '(' or ')' or ',')
                {
                    tokens.Add((c.ToString(), false));
                    i++;
                }
                else if (c is '<' or '>' or '!' or '=')
                {
                    var length = c != '=' && i + 1 < text.Length && text[i + 1] == '=' ? 2 : 1;
                    tokens.Add((text.Substring(i, length), false));
                    i += length;
                }
                else if (c == '\'')
                {
                    // A quoted value; '' inside it is one quote.
                    var value = new StringBuilder();
                    for (i++; ; i++)
                    {
                        if (i >= text.Length)
                        {
                            throw new FormatException($"--where '{text}': a quote is not closed.");
                        }

                        if (text[i] == '\'')
                        {
                            if (i + 1 < text.Length && text[i + 1] == '\'')
                            {
                                value.Append('\'');
                                i++;
                                continue;
                            }

                            i++;
                            break;
                        }

                        value.Append(text[i]);
                    }

                    tokens.Add((value.ToString(), true));
                }
                else
                {
                    var start = i;
                    while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or ',' or '<' or '>' or '!' or '=' or '\''))
                    {
                        i++;
                    }

                    tokens.Add((text[start..i], false));
                }
            }

            return tokens;
        }
    }
}
