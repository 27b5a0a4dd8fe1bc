using Exchange.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Audit;

internal static class AuditSetup
{
    /// <summary>Reading the log (events, proofs, receipts) and signing checkpoints as it grows.</summary>
    public static IServiceCollection AddExchangeAudit(this IServiceCollection services)
    {
        // Loaded when the host starts, so a missing or malformed key stops the start with a clear message.
        services.AddSingleton(provider => new CheckpointSigner(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Audit));
        services.AddSingleton<AuditStore>();
        services.AddHostedService<CheckpointPublisher>();
        return services;
    }
}
