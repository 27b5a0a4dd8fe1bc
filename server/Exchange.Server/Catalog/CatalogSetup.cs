namespace Exchange.Server.Catalog;

internal static class CatalogSetup
{
    /// <summary>Datasets and their revisions; what other features may ask of them (<see cref="ICatalog"/>, <see cref="IRevisions"/>).</summary>
    public static IServiceCollection AddExchangeCatalog(this IServiceCollection services)
    {
        services.AddSingleton<CatalogStore>();
        services.AddSingleton<ICatalog>(provider => provider.GetRequiredService<CatalogStore>());
        services.AddSingleton<RevisionStore>();
        services.AddSingleton<IRevisions>(provider => provider.GetRequiredService<RevisionStore>());
        return services;
    }
}
