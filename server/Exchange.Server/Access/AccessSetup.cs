using Exchange.Server.Storage;

namespace Exchange.Server.Access;

internal static class AccessSetup
{
    /// <summary>Access requests and grants; what Transfers may ask of them (<see cref="IGrants"/>); revocations that stop downloads on every replica.</summary>
    public static IServiceCollection AddExchangeAccess(this IServiceCollection services)
    {
        services.AddSingleton<AccessStore>();
        services.AddSingleton<IGrants>(provider => provider.GetRequiredService<AccessStore>());
        services.AddSingleton<Revocations>();
        services.AddSingleton<IReplicaListener>(provider => provider.GetRequiredService<Revocations>());
        return services;
    }
}
