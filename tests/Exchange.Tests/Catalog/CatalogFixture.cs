using Exchange.Client;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Catalog;

internal static class CatalogFixture
{
    /// <summary>Creates a dataset as <paramref name="owner"/> and moves it to <paramref name="state"/>.</summary>
    public static async Task<Dataset> CreateAsync(ExchangeClient owner, DatasetState state = DatasetState.Draft,
        string title = "Weather stations", string description = "Hourly readings", Classification classification = Classification.Public,
        params string[] tags)
    {
        var dataset = new Dataset { Title = title, Description = description, Classification = classification };
        dataset.Tags.Add(tags);
        var created = (await owner.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset })).Dataset;
        if (state is DatasetState.Listed or DatasetState.Delisted)
        {
            created = (await owner.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = created.Name })).Dataset;
        }

        if (state == DatasetState.Delisted)
        {
            created = (await owner.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = created.Name })).Dataset;
        }

        Assert.Equal(state, created.State);
        return created;
    }

    public static ExchangeClient As(this ExchangeFactory factory, Participant participant) => factory.ClientFor(participant);
}
