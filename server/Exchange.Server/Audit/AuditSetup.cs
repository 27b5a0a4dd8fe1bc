using Exchange.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Audit;

internal static class AuditSetup
{
    /// <summary>Reading the log (events, proofs, receipts) and signing checkpoints as it grows.</summary>
    public static IServiceCollection AddExchangeAudit(this IServiceCollection services)
    {
        // The key was checked with the other settings (Problems); the log id comes with the database.
        services.AddSingleton(provider => new CheckpointSigner(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Audit,
            provider.GetRequiredService<Storage.StorageInitializer>().LogId));
        services.AddSingleton<AuditStore>();
        services.AddHostedService<CheckpointPublisher>();
        return services;
    }

    /// <summary>What cannot work in the audit settings: a missing or malformed signing key, an origin a note cannot name.</summary>
    public static IEnumerable<string> Problems(ExchangeOptions options) => CheckpointSigner.Problems(options.Audit);
}
