namespace Exchange.Server.Compute;

/// <summary>
/// One token of a query: its kind, its value (a quoted one without its quotes), and where it
/// starts (a character offset, for messages).
/// </summary>
internal readonly record struct QueryToken(QueryTokenKind Kind, string Value, int Position)
{
    /// <summary>Whether this is the bare word <paramref name="keyword"/>, in any case.</summary>
    public bool Is(string keyword) => Kind == QueryTokenKind.Word && string.Equals(Value, keyword, StringComparison.OrdinalIgnoreCase);

    public bool IsSymbol(string symbol) => Kind == QueryTokenKind.Symbol && Value == symbol;

    /// <summary>The token as a message quotes it.</summary>
    public string Quoted => Kind switch
    {
        QueryTokenKind.End => "the end of the query",
        QueryTokenKind.Text => $"the string '{Shorten(Value)}'",
        QueryTokenKind.QuotedName => $"\"{Shorten(Value)}\"",
        _ => $"'{Shorten(Value)}'",
    } + (Kind == QueryTokenKind.End ? "" : $" (at character {Position + 1})");

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
