using Exchange.Server.Storage;

namespace Exchange.Server.Participants;

internal static class ParticipantSetup
{
    /// <summary>Participants' states; the suspensions every replica refuses calls by, kept in memory.</summary>
    public static IServiceCollection AddExchangeParticipants(this IServiceCollection services)
    {
        services.AddSingleton<ParticipantStore>();
        services.AddSingleton<Suspensions>();
        services.AddSingleton<IReplicaListener>(provider => provider.GetRequiredService<Suspensions>());
        return services;
    }
}
