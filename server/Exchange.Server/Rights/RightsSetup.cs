namespace Exchange.Server.Rights;

internal static class RightsSetup
{
    /// <summary>The rights registry, and the gate by which rights decide who may publish and grant.</summary>
    public static IServiceCollection AddExchangeRights(this IServiceCollection services)
    {
        services.AddSingleton<RightsStore>();
        services.AddSingleton<Catalog.IRightsGate, RightsGate>();
        return services;
    }
}
