namespace Exchange.Server.Compute;

/// <summary>The kinds of token in the query language.</summary>
internal enum QueryTokenKind
{
    /// <summary>A bare word: a keyword, a function or a column name.</summary>
    Word,
    /// <summary>A "double-quoted" column name.</summary>
    QuotedName,
    /// <summary>A 'single-quoted' string.</summary>
    Text,
    Number,
    /// <summary>One of , ( ) * = != &lt;&gt; &lt; &lt;= &gt; &gt;= -.</summary>
    Symbol,
    End,
}
