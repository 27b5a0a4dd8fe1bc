using Exchange.Server.Pricing;
using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Pricing;

/// <summary>
/// ListOffers counts a dataset's queries from the index of queries alone: its other events (downloads and their
/// charges may be most of them) are not walked. (SQLite's plan; this file is not part of the PostgreSQL run.)
/// </summary>
public sealed class DemandPlanTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_datasets_queries_are_counted_from_the_index_of_queries_alone()
    {
        var plan = await SqlitePlan.StepsAsync(_factory.Services.GetRequiredService<Database>(), PricingStore.QueriesSql, ("@key", "datasets/d"),
            ("@since", 0));

        Assert.Equal(["SEARCH audit_events USING COVERING INDEX audit_events_compute_queries (dataset=?)"], plan);
    }
}
