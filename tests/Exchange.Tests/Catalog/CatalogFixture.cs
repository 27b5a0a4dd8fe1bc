using Exchange.Client;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Catalog;

internal static class CatalogFixture
{
    /// <summary>The bytes of the revision the fixture uploads before publishing.</summary>
    public static readonly byte[] SampleBytes = "station,hour,celsius\nbergen,0,4.5\n"u8.ToArray();

    /// <summary>
    /// Creates a dataset as <paramref name="owner"/> and moves it to <paramref name="state"/>. A
    /// LISTED or DELISTED one gets a small revision first (publishing needs one); a draft only
    /// when <paramref name="withRevision"/> says so.
    /// </summary>
    public static async Task<Dataset> CreateAsync(ExchangeClient owner, DatasetState state = DatasetState.Draft,
        string title = "Weather stations", string description = "Hourly readings", Classification classification = Classification.Public,
        string[]? tags = null, bool withRevision = false)
    {
        var dataset = new Dataset { Title = title, Description = description, Classification = classification };
        dataset.Tags.Add(tags ?? []);
        var created = (await owner.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset })).Dataset;
        if (withRevision || state is DatasetState.Listed or DatasetState.Delisted)
        {
            await owner.UploadAsync(created.Name, new MemoryStream(SampleBytes), new() { MediaType = "text/csv" });
            created = (await owner.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = created.Name })).Dataset;
        }

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
