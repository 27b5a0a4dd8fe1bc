namespace Exchange.Server.Catalog.Model;

/// <summary>How sensitive a dataset is; the numbers are those stored and of exchange.v1.Classification (0: not set).</summary>
internal enum Classification
{
    Unspecified = 0,
    Public = 1,
    Internal = 2,
    Sensitive = 3,
    Core = 4,
}
