using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>What Access asks of a dataset's offers inside its own unit of work: Pricing implements it.</summary>
internal interface IOffers
{
    /// <summary>
    /// The offer <paramref name="caller"/> accepts for <paramref name="dataset"/>, as it stands now (the copy the
    /// grant keeps): the one named, which must be active and open to the caller; null when none is named and the
    /// dataset has no offer open to the caller. Refuses a request that names none while there are offers to choose from.
    /// </summary>
    V1.Offer? Accept(WriteUnit unit, DatasetId dataset, string? offer, Caller caller);

    /// <summary>Whether the dataset was ever offered at a price, to anyone: a request under no offer then waits for its provider.</summary>
    bool Priced(WriteUnit unit, DatasetId dataset);
}
