using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Storage;
using Exchange.Server.Transfers;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

internal static class GrpcSetup
{
    public static IServiceCollection AddExchangeGrpc(this IServiceCollection services)
    {
        services.AddSingleton<Limits.CallLimiter>();
        // Page tokens are authenticated with a key every replica shares, kept in the database.
        services.AddSingleton(provider => new Paging.PageTokens(provider.GetRequiredService<StorageInitializer>().PageTokenKey));
        services.AddGrpc(grpc =>
        {
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<UnhandledExceptionInterceptor>();
            grpc.Interceptors.Add<Observability.CallMetricsInterceptor>();
            grpc.Interceptors.Add<Limits.CallLimiter>();
            grpc.Interceptors.Add<Participants.SuspensionInterceptor>();
            grpc.Interceptors.Add<Validation.RequestTextInterceptor>();
            grpc.Interceptors.Add<RefusalInterceptor>();
        });
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ExchangeOptions>>((grpc, exchange) =>
        {
            grpc.MaxReceiveMessageSize = exchange.Value.Limits.MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = exchange.Value.Limits.MaxSendMessageBytes;
        });
        services.AddGrpcReflection();
        // Each Check runs the checks afresh, so a load balancer sees storage trouble at once, not at the next publish.
        services.AddGrpcHealthChecks(health => health.UseHealthChecksCache = false).AddCheck<StorageHealthCheck>("storage");
        return services;
    }

    /// <summary>
    /// The exchange.v1 services, for authenticated callers with a participant role (a token with
    /// only the metrics role, or none, is PERMISSION_DENIED), and health and reflection, the only
    /// anonymous endpoints.
    /// </summary>
    public static WebApplication MapExchangeServices(this WebApplication app)
    {
        app.MapGrpcService<CatalogService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<AccessService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<TransferService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Compute.ComputeService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Rights.RightsService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Lineage.LineageService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Pricing.PricingService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Billing.BillingService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<AuditService>().RequireAuthorization(Security.Policies.Participant);
        app.MapGrpcService<Participants.ParticipantService>().RequireAuthorization(Security.Policies.Participant);

        app.MapGrpcHealthChecksService().AllowAnonymous();
        if (app.Services.GetRequiredService<IOptions<ExchangeOptions>>().Value.Reflection)
        {
            app.MapGrpcReflectionService().AllowAnonymous();
        }

        return app;
    }

    /// <summary>What cannot work in the message limits: a download chunk must fit in the largest message sent.</summary>
    public static IEnumerable<string> Problems(ExchangeOptions options)
    {
        if (options.Transfers.ChunkSize > options.Limits.MaxSendMessageBytes - 1024)
        {
            yield return $"Exchange:Transfers:ChunkSize ({options.Transfers.ChunkSize}) must leave room in Exchange:Limits:MaxSendMessageBytes ({options.Limits.MaxSendMessageBytes}).";
        }
    }
}
