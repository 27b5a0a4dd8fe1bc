namespace Exchange.Server.Lineage;

internal static class LineageSetup
{
    /// <summary>The lineage graph, which revocations and cancellations flag through <see cref="Catalog.IDerivations"/>.</summary>
    public static IServiceCollection AddExchangeLineage(this IServiceCollection services)
    {
        services.AddSingleton<LineageStore>();
        services.AddSingleton<Catalog.IDerivations, LineageFlags>();
        services.AddSingleton<LineageStops>();
        services.AddSingleton<Storage.IReplicaListener>(provider => provider.GetRequiredService<LineageStops>());
        return services;
    }
}
