namespace Exchange.Server.Compute;

internal static class ComputeSetup
{
    /// <summary>Aggregate queries under grants: the store that admits and records them, the engine that runs them, the noise they get.</summary>
    public static IServiceCollection AddExchangeCompute(this IServiceCollection services)
    {
        services.AddSingleton<ComputeStore>();
        services.AddSingleton<Access.IQueryBudgets>(provider => provider.GetRequiredService<ComputeStore>());
        services.AddSingleton<ComputeEngine>();
        services.AddSingleton<QuerySlots>();
        services.AddSingleton<INoiseSource>(SecureNoise.Instance);
        return services;
    }
}
