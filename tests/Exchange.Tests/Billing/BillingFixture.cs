using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Server.Billing;
using Exchange.Server.Storage;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Billing;

/// <summary>Sellers, buyers and what the tests read of the ledger.</summary>
internal static class BillingFixture
{
    /// <summary>A GiB priced at 2^30 minor units: one minor unit a byte, so an amount reads as bytes.</summary>
    public const long OnePerByte = 1L << 30;

    public static Offer Offer(OfferKind kind, long price, string currency = "EUR") =>
        new() { Kind = kind, Price = new Money { Currency = currency, AmountMinor = price } };

    /// <summary>A subscription of <paramref name="price"/> a month that renews itself.</summary>
    public static Offer MonthlySubscription(long price)
    {
        var offer = Offer(OfferKind.Subscription, price);
        offer.PeriodMonths = 1;
        offer.AutoRenew = true;
        return offer;
    }

    /// <summary>A listed dataset of <paramref name="size"/> random bytes, offered as <paramref name="offer"/>; returns both.</summary>
    public static async Task<(Dataset Dataset, Offer Offer)> OfferedAsync(ExchangeClient provider, Offer offer, int size = 64 * 1024)
    {
        var dataset = await CatalogFixture.CreateAsync(provider);
        await provider.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(size)));
        dataset = (await provider.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
        var made = (await provider.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = dataset.Name, Offer = offer })).Offer;
        return (dataset, made);
    }

    /// <summary>A grant of <paramref name="consumer"/>'s under <paramref name="offer"/>, approved by <paramref name="provider"/>.</summary>
    public static async Task<Grant> BuyAsync(ExchangeClient provider, ExchangeClient consumer, Dataset dataset, Offer offer, Terms? terms = null) =>
        await provider.ApproveAsync(await consumer.RequestAsync(dataset, terms: terms, offer: offer.Name));

    public static async Task<Statement> StatementAsync(ExchangeClient client, string participant, string? period = null) =>
        (await client.Billing.GetStatementAsync(new GetStatementRequest
        {
            Name = $"participants/{participant}/statements/{period ?? Month(DateTimeOffset.UtcNow)}",
            PageSize = 1000,
        })).Statement;

    /// <summary>Checks <paramref name="participant"/>'s statement for <paramref name="period"/> against the log, failing with every difference.</summary>
    public static async Task<Exchange.Client.Billing.StatementVerification> AssertVerifiesAsync(ExchangeClient client, string participant, string period)
    {
        var verified = await client.VerifyStatementAsync(participant, period);
        Assert.True(verified.Succeeded, $"{participant} {period}:\n{string.Join('\n', verified.Differences)}");
        return verified;
    }

    public static string Month(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The ledger's sum per currency, which must always be zero.</summary>
    public static Task<Dictionary<string, long>> BalancesAsync(ExchangeFactory gateway) =>
        gateway.Services.GetRequiredService<BillingStore>().LedgerBalancesAsync(CancellationToken.None);

    /// <summary>
    /// <paramref name="grant"/>'s running usage per month, which its charges are priced from, against the sum of its usage
    /// records (reversals included): the months that differ, as "month: kept units/amount, summed units/amount". Must be none.
    /// (Per grant: other tests forge usage records behind the gateway's back, to show verification finds them.)
    /// </summary>
    public static Task<List<string>> UsageTotalsDifferencesAsync(ExchangeFactory gateway, Grant grant) =>
        gateway.Services.GetRequiredService<Database>().ReadAsync(connection =>
        {
            var differences = new List<string>();
            using var command = connection.Command("""
                SELECT s.usage_period, t.units, t.amount_minor, s.units, s.amount_minor
                FROM (SELECT usage_period, SUM(units) AS units, SUM(amount_minor) AS amount_minor FROM usage_records WHERE grant_id = @grant
                      GROUP BY usage_period) s
                LEFT JOIN usage_totals t ON t.grant_id = @grant AND t.usage_period = s.usage_period
                WHERE t.units IS NULL OR t.units <> s.units OR t.amount_minor <> s.amount_minor
                """).With("@grant", grant.Name["grants/".Length..]);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                differences.Add($"{reader.GetValue(0)}: kept {reader.GetValue(1)}/{reader.GetValue(2)}, summed {reader.GetValue(3)}/{reader.GetValue(4)}");
            }

            return differences;
        }, CancellationToken.None);

    /// <summary>
    /// How many usage records charge each event (a subscription's periods, each, and reversals are left out): each must
    /// be one. The ids are unique by construction; this is what they stand for.
    /// </summary>
    public static Task<Dictionary<string, long>> UsageCountsAsync(ExchangeFactory gateway) =>
        gateway.Services.GetRequiredService<Database>().ReadAsync(connection =>
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT resource || ' ' || CAST(event_index AS TEXT), COUNT(*) FROM usage_records
                WHERE id NOT LIKE 'subscription-%' AND id NOT LIKE 'reversal-%' AND id NOT LIKE 'transfer-%-%'
                GROUP BY resource, event_index
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }

            return counts;
        }, CancellationToken.None);
}
