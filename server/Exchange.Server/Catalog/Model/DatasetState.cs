namespace Exchange.Server.Catalog.Model;

/// <summary>A dataset's place in the catalog; the numbers are those stored and of exchange.v1.DatasetState.</summary>
internal enum DatasetState
{
    Draft = 1,
    Listed = 2,
    Delisted = 3,
}
