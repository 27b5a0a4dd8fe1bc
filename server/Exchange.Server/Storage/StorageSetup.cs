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
    /// default, or PostgreSQL); revision bytes on local files or S3. Every service reads the
    /// validated options (<see cref="Problems"/>) when it is created.
    /// </summary>
    public static IServiceCollection AddExchangeStorage(this IServiceCollection services)
    {
        // Loaded when the host starts, so a missing or malformed key stops the start with a clear message.
        services.AddSingleton(provider => new CheckpointSigner(Options(provider).Audit));
        services.AddSingleton<DatabaseEngine>(provider =>
        {
            var database = Options(provider).Database;
            return database.Kind == "postgres"
                ? new PostgresEngine(database.ConnectionString)
                : new SqliteEngine(System.IO.Path.Combine(DataDirectory(provider), DatabaseFile));
        });
        services.AddSingleton<StorageInitializer>();
        // The schema is current before the database starts its writer, and the page-token key is read from it.
        services.AddSingleton(provider =>
        {
            provider.GetRequiredService<StorageInitializer>();
            var database = ActivatorUtilities.CreateInstance<Database>(provider);
            provider.GetRequiredService<Observability.ExchangeTelemetry>().ObserveLog(() => database.LogSize, () => database.Appended);
            return database;
        });
        services.AddSingleton(provider => new PageTokens(provider.GetRequiredService<StorageInitializer>().PageTokenKey));
        services.AddSingleton<IBlobStore>(provider =>
        {
            var blobs = Options(provider).Blobs;
            return blobs.Kind == "s3"
                ? new S3BlobStore(blobs.S3, provider.GetRequiredService<TimeProvider>())
                : new LocalBlobStore(System.IO.Path.Combine(DataDirectory(provider), "blobs"));
        });
        services.AddSingleton(provider => KeyRing.Load(Options(provider).Encryption, DataDirectory(provider),
            provider.GetRequiredService<DatabaseEngine>().Shared));
        services.AddSingleton<RevisionStore>();
        services.AddSingleton<IRevisions>(provider => provider.GetRequiredService<RevisionStore>());
        services.AddSingleton<GrantsAndDatasets>();
        services.AddSingleton<TransferStore>();
        services.AddSingleton<UploadPipeline>();
        services.AddSingleton<DownloadStreamer>();
        services.AddSingleton<GrantSignals>();
        services.AddSingleton<CatalogStore>();
        services.AddSingleton<ICatalog>(provider => provider.GetRequiredService<CatalogStore>());
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AccessStore>();
        services.AddSingleton<IGrants>(provider => provider.GetRequiredService<AccessStore>());
        services.AddSingleton<Participants.ParticipantStore>();
        services.AddSingleton<Participants.Suspensions>();
        services.AddHostedService<RevisionMaintenance>();
        services.AddSingleton<Hosting.GatewayInstance>();
        services.AddSingleton<LiveTransfers>();
        services.AddHostedService<OrphanedTransfers>();
        services.AddHostedService<CheckpointPublisher>();
        // Listens only on a shared engine; on the embedded one it ends at once.
        services.AddHostedService<ReplicaNotifications>();

        return services;
    }

    /// <summary>What cannot work in the storage settings: unknown kinds, a missing connection string, key-encryption keys that are not there.</summary>
    public static IEnumerable<string> Problems(ExchangeOptions options)
    {
        var database = options.Database;
        if (database.Kind is not ("sqlite" or "postgres"))
        {
            yield return $"Exchange:Database:Kind '{database.Kind}' is not 'sqlite' or 'postgres'.";
        }
        else if (database.Kind == "postgres" && database.ConnectionString.Length == 0)
        {
            yield return "Exchange:Database:Kind is 'postgres' but Exchange:Database:ConnectionString is empty.";
        }

        if (options.Blobs.Kind is not ("local" or "s3"))
        {
            yield return $"Exchange:Blobs:Kind '{options.Blobs.Kind}' is not 'local' or 's3'.";
        }

        foreach (var problem in KeyRing.Problems(options.Encryption, sharedDatabase: database.Kind == "postgres"))
        {
            yield return problem;
        }

        if (options.Transfers.OrphanTimeout <= TimeSpan.Zero)
        {
            yield return $"Exchange:Transfers:OrphanTimeout must be positive, not {options.Transfers.OrphanTimeout}.";
        }
    }

    private static ExchangeOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<ExchangeOptions>>().Value;

    /// <summary>Exchange:DataDirectory; a relative one is taken from the content root, wherever the process was started.</summary>
    private static string DataDirectory(IServiceProvider provider)
    {
        var root = provider.GetRequiredService<IHostEnvironment>().ContentRootPath;
        return System.IO.Path.GetFullPath(Options(provider).DataDirectory, root);
    }
}
