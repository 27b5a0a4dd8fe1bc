namespace Exchange.Server.Compute.Model;

/// <summary>How a literal was written: 'text', a number, or TRUE/FALSE in SQL; or, in a structured query, as its column's type is written.</summary>
internal enum LiteralKind
{
    Text,
    Number,
    Bool,
    /// <summary>Written as the column's values are (a view's filter values): its kind is the column's, known once the column is.</summary>
    Typed,
}
