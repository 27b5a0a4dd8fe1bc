namespace Exchange.Server.Pricing;

internal static class PricingSetup
{
    /// <summary>Offers and quotes; Access takes the accepted offer into a request's terms through <see cref="Catalog.IOffers"/>.</summary>
    public static IServiceCollection AddExchangePricing(this IServiceCollection services)
    {
        services.AddSingleton<PricingStore>();
        services.AddSingleton<Catalog.IOffers>(provider => provider.GetRequiredService<PricingStore>());
        return services;
    }
}
