namespace Exchange.Server.Compute;

/// <summary>
/// Splits a query into tokens. Only what the language has gets through: comments, statement
/// separators and any character with no meaning in it are refused here, naming what was found,
/// before a parser sees anything.
/// </summary>
internal static class QueryTokenizer
{
    /// <summary>Longer queries are no aggregate a rule could allow; the bound keeps parsing cheap.</summary>
    public const int MaxLength = 4096;

    public static List<QueryToken> Tokenize(string sql)
    {
        if (sql.Length > MaxLength)
        {
            throw Refusal.Invalid($"sql is {sql.Length} characters long; a query may have at most {MaxLength}.");
        }

        var tokens = new List<QueryToken>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new(QueryTokenKind.Word, sql[start..i], start));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < sql.Length && char.IsAsciiDigit(sql[i + 1])))
            {
                tokens.Add(Number(sql, ref i));
            }
            else if (c is '\'' or '"')
            {
                tokens.Add(Quoted(sql, ref i, c));
            }
            else if ((c == '-' && Next(sql, i) == '-') || (c == '/' && Next(sql, i) == '*'))
            {
                throw Refusal.Invalid($"sql: comments are not allowed ('{c}{Next(sql, i)}' at character {i + 1}).");
            }
            else if (c == ';')
            {
                throw Refusal.Invalid($"sql: ';' (at character {i + 1}) is not allowed: a query is one SELECT statement.");
            }
            else if (c is '<' or '>' or '!')
            {
                var two = i + 1 < sql.Length ? sql.Substring(i, 2) : "";
                var symbol = two is "<=" or ">=" or "<>" or "!=" ? two : c.ToString();
                if (symbol == "!")
                {
                    throw Refusal.Invalid($"sql: '!' (at character {i + 1}) is not part of the query language; use != or NOT.");
                }

                tokens.Add(new(QueryTokenKind.Symbol, symbol, i));
                i += symbol.Length;
            }
            else if (c is ',' or '(' or ')' or '*' or '=' or '-')
            {
                tokens.Add(new(QueryTokenKind.Symbol, c.ToString(), i));
                i++;
            }
            else
            {
                var shown = char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : c.ToString();
                throw Refusal.Invalid($"sql: '{shown}' (at character {i + 1}) is not part of the query language.");
            }
        }

        tokens.Add(new(QueryTokenKind.End, "", sql.Length));
        return tokens;
    }

    private static char Next(string sql, int i) => i + 1 < sql.Length ? sql[i + 1] : '\0';

    private static QueryToken Number(string sql, ref int i)
    {
        var start = i;
        while (i < sql.Length && char.IsAsciiDigit(sql[i]))
        {
            i++;
        }

        if (i < sql.Length && sql[i] == '.')
        {
            i++;
            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            {
                i++;
            }
        }

        if (i < sql.Length && sql[i] is 'e' or 'E')
        {
            var mark = i;
            i++;
            if (i < sql.Length && sql[i] is '+' or '-')
            {
                i++;
            }

            if (i >= sql.Length || !char.IsAsciiDigit(sql[i]))
            {
                i = mark;
            }

            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            {
                i++;
            }
        }

        if (i < sql.Length && (char.IsAsciiLetter(sql[i]) || sql[i] == '_'))
        {
            throw Refusal.Invalid($"sql: '{sql[start..(i + 1)]}' (at character {start + 1}) is neither a number nor a name.");
        }

        return new(QueryTokenKind.Number, sql[start..i], start);
    }

    private static QueryToken Quoted(string sql, ref int i, char quote)
    {
        var start = i;
        var value = new System.Text.StringBuilder();
        i++;
        while (true)
        {
            if (i >= sql.Length)
            {
                var what = quote == '\'' ? "string" : "quoted name";
                throw Refusal.Invalid($"sql: the {what} that starts at character {start + 1} is never closed.");
            }

            if (sql[i] == quote)
            {
                // A doubled quote is one quote inside; there are no other escapes.
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    value.Append(quote);
                    i += 2;
                    continue;
                }

                i++;
                break;
            }

            value.Append(sql[i]);
            i++;
        }

        if (quote == '"' && value.Length == 0)
        {
            throw Refusal.Invalid($"sql: the quoted name at character {start + 1} is empty.");
        }

        return new(quote == '\'' ? QueryTokenKind.Text : QueryTokenKind.QuotedName, value.ToString(), start);
    }
}
