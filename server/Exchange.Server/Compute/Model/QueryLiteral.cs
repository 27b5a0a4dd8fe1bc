namespace Exchange.Server.Compute.Model;

/// <summary>A literal as written in a query (the text between the quotes for <see cref="LiteralKind.Text"/>).</summary>
internal sealed record QueryLiteral(LiteralKind Kind, string Text);
