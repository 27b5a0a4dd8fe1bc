using System.Globalization;
using System.Text;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.V1;

namespace Exchange.Tests.Compute;

/// <summary>A table of purchases by people in three cities, and compute grants on it.</summary>
internal static class ComputeFixture
{
    /// <summary>People per city: Tromsø's three are under the default minimum of ten.</summary>
    public static readonly (string City, int People)[] Cities = [("Bergen", 12), ("Oslo", 10), ("Tromsø", 3)];

    /// <summary>
    /// person,name,city,amount: each person buys twice (amounts 10·n and 10·n + 1), so a city's
    /// row count is twice its people.
    /// </summary>
    public static string Purchases()
    {
        var csv = new StringBuilder("person,name,city,amount\n");
        var n = 0;
        foreach (var (city, people) in Cities)
        {
            for (var i = 0; i < people; i++, n++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"p{n},Name{n},{city},{n * 10}\n");
                csv.Append(CultureInfo.InvariantCulture, $"p{n},Name{n},{city},{(n * 10) + 1}\n");
            }
        }

        return csv.ToString();
    }

    public static AnalysisRule Rule(DifferentialPrivacy? privacy = null) => new()
    {
        Dimensions = { "city", "name" },
        Aggregates =
        {
            new AggregateColumn
            {
                Column = "amount",
                Functions = { AggregateFunction.Count, AggregateFunction.Sum, AggregateFunction.Avg },
                Lower = 0,
                Upper = 1000,
            },
        },
        IdentityColumn = "person",
        Privacy = privacy,
    };

    public static async Task<Dataset> PurchasesAsync(ExchangeClient provider, string? csv = null)
    {
        var dataset = await CatalogFixture.CreateAsync(provider);
        await provider.UploadAsync(dataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(csv ?? Purchases())), new UploadOptions { MediaType = "text/csv" });
        return (await provider.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
    }

    /// <summary>A COMPUTE grant of <paramref name="consumer"/> on <paramref name="dataset"/> under <paramref name="rule"/>.</summary>
    public static async Task<Grant> ComputeGrantAsync(ExchangeClient provider, ExchangeClient consumer, Dataset dataset, AnalysisRule rule)
    {
        var request = await consumer.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute, Analysis = rule });
        return await provider.ApproveAsync(request);
    }

    public static async Task<RunQueryResponse> QueryAsync(this ExchangeClient consumer, string grant, string sql) =>
        await consumer.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant, Sql = sql });

    /// <summary>The result's rows as "value|value|…" lines.</summary>
    public static string[] Lines(RunQueryResponse response) => [.. response.Result.Rows.Select(r => string.Join('|', r.Values))];
}
