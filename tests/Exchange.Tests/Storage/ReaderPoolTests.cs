using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Tests.Storage;

/// <summary>
/// Reads run on pooled connections that stay open with their prepared statements, and repeated ones
/// are answered from memory until the next write (ReadCacheTests): a read must still see every write
/// committed before it, however often the same connection, statement or cached answer serves.
/// </summary>
public sealed class ReaderPoolTests
{
    [Fact]
    public async Task Every_read_on_a_pooled_connection_sees_the_writes_committed_before_it()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Draft);
        using var stop = new CancellationTokenSource();

        // Readers keep filling the cache while the titles change under them.
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name });
                await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { Provider = "acme", PageSize = 100 });
            }
        })).ToList();

        for (var version = 0; version < 40; version++)
        {
            var title = $"title {version}";
            await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
            {
                Dataset = new Dataset { Name = dataset.Name, Title = title },
                UpdateMask = new FieldMask { Paths = { "title" } },
            });

            // Sequential and concurrent reads, so the same connections and statements serve again and again.
            Assert.Equal(title, (await acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name })).Dataset.Title);
            var together = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name }).ResponseAsync));
            Assert.All(together, response => Assert.Equal(title, response.Dataset.Title));
            var page = await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { Provider = "acme", PageSize = 100 });
            Assert.Contains(page.Datasets, d => d.Name == dataset.Name && d.Title == title);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
    }
}
