using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Hosting;
using Exchange.Server.Paging;
using Exchange.Server.Transfers;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Storage;

internal static class StorageSetup
{
    public const string DatabaseFile = "exchange.db";

    /// <summary>
    /// State and the audit log on the configured engine (SQLite under Exchange:DataDirectory by
    /// default, or PostgreSQL); revision bytes on local files or S3.
    /// </summary>
    public static IServiceCollection AddExchangeStorage(this IServiceCollection services, ExchangeOptions exchangeOptions)
    {
        // Loaded now, so a missing or malformed key stops the start with a clear message.
        services.AddSingleton(new CheckpointSigner(exchangeOptions.Audit));
        services.AddSingleton<DatabaseEngine>(provider =>
        {
            var database = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Database;
            return database.Kind switch
            {
                "sqlite" => new SqliteEngine(System.IO.Path.Combine(DataDirectory(provider), DatabaseFile)),
                "postgres" when database.ConnectionString.Length == 0 =>
                    throw new StartupException("Exchange:Database:Kind is 'postgres' but Exchange:Database:ConnectionString is empty."),
                "postgres" => new PostgresEngine(database.ConnectionString),
                _ => throw new StartupException($"Exchange:Database:Kind '{database.Kind}' is not 'sqlite' or 'postgres'."),
            };
        });
        services.AddSingleton(provider =>
        {
            var database = ActivatorUtilities.CreateInstance<Database>(provider);
            provider.GetRequiredService<Observability.ExchangeTelemetry>().ObserveLog(() => database.LogSize, () => database.Appended);
            return database;
        });
        services.AddSingleton<PageTokens>();
        services.AddSingleton<IBlobStore>(provider =>
        {
            var blobs = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Blobs;
            return blobs.Kind switch
            {
                "local" => new LocalBlobStore(System.IO.Path.Combine(DataDirectory(provider), "blobs")),
                "s3" => new S3BlobStore(blobs.S3, provider.GetRequiredService<TimeProvider>()),
                _ => throw new StartupException($"Exchange:Blobs:Kind '{blobs.Kind}' is not 'local' or 's3'."),
            };
        });
        services.AddSingleton(provider => KeyRing.Load(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Encryption, DataDirectory(provider),
            provider.GetRequiredService<DatabaseEngine>().Shared));
        services.AddSingleton<TransferStore>();
        services.AddSingleton<GrantSignals>();
        services.AddSingleton<CatalogStore>();
        services.AddSingleton<ICatalog>(provider => provider.GetRequiredService<CatalogStore>());
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AccessStore>();
        services.AddSingleton<IGrants>(provider => provider.GetRequiredService<AccessStore>());
        services.AddSingleton<Participants.ParticipantStore>();
        services.AddSingleton<Participants.Suspensions>();
        services.AddHostedService<StorageInitializer>();
        services.AddHostedService<RevisionMaintenance>();
        services.AddSingleton<Hosting.GatewayInstance>();
        services.AddSingleton<LiveTransfers>();
        services.AddHostedService<OrphanedTransfers>();
        services.AddHostedService<CheckpointPublisher>();
        if (exchangeOptions.Database.Kind == "postgres")
        {
            services.AddHostedService<ReplicaNotifications>();
        }

        return services;
    }

    /// <summary>Exchange:DataDirectory; a relative one is taken from the content root, wherever the process was started.</summary>
    private static string DataDirectory(IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value;
        var root = provider.GetRequiredService<IHostEnvironment>().ContentRootPath;
        return System.IO.Path.GetFullPath(options.DataDirectory, root);
    }
}
