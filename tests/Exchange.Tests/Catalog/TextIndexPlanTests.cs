using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Catalog;

/// <summary>
/// A text query on SQLite walks its trigram index in creation order and stops at the page's end:
/// no sort of every match first. (SQLite's plan; this file is not part of the PostgreSQL run.)
/// </summary>
public sealed class TextIndexPlanTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_text_of_three_characters_or_more_walks_the_text_index_on_SQLite()
    {
        var database = _factory.Services.GetRequiredService<Database>();
        var plan = await SqlitePlan.StepsAsync(database,
            CatalogStore.ListSql(new DatasetQuery("abc", null, null, Classification.Unspecified, null), database.Engine));

        Assert.StartsWith("SCAN dataset_text VIRTUAL TABLE", plan[0], StringComparison.Ordinal);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal));
    }
}
