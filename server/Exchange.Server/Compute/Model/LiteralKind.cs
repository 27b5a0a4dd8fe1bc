namespace Exchange.Server.Compute.Model;

/// <summary>How a literal was written: 'text', a number, or TRUE/FALSE.</summary>
internal enum LiteralKind
{
    Text,
    Number,
    Bool,
}
