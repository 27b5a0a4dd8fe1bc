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
        var database = _factory.Services.GetRequiredService<Database>();
        var plan = await database.ReadAsync((connection, _) =>
        {
            using var explain = connection.Command("EXPLAIN QUERY PLAN " + PricingStore.QueriesSql).With("@key", "datasets/d").With("@since", 0);
            using var reader = explain.ExecuteReader();
            var steps = new List<string>();
            while (reader.Read())
            {
                steps.Add(reader.GetString(3));
            }

            return Task.FromResult(steps);
        }, CancellationToken.None);

        Assert.Equal(["SEARCH audit_events USING COVERING INDEX audit_events_compute_queries (dataset=?)"], plan);
    }
}
