using Exchange.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Storage;

internal static class StorageSetup
{
    public const string DatabaseFile = "exchange.db";

    /// <summary>
    /// State and the audit log on the configured engine (SQLite under Exchange:DataDirectory by
    /// default, or PostgreSQL), migrated on start; the one writer that commits every effect with its
    /// audit record; and what replicas sharing the database tell each other.
    /// </summary>
    public static IServiceCollection AddExchangeStorage(this IServiceCollection services)
    {
        services.AddSingleton<DatabaseEngine>(provider =>
        {
            var database = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Database;
            return database.Kind == "postgres"
                ? new PostgresEngine(database.ConnectionString)
                : new SqliteEngine(Path.Combine(DataDirectory.Of(provider), DatabaseFile));
        });
        services.AddSingleton<StorageInitializer>();
        // The schema is current before the database starts its writer.
        services.AddSingleton(provider =>
        {
            provider.GetRequiredService<StorageInitializer>();
            var database = ActivatorUtilities.CreateInstance<Database>(provider);
            database.CachesReads &= provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Database.CacheReads;
            return database;
        });
        // Listens only on a shared engine; on the embedded one it ends at once.
        services.AddHostedService<ReplicaNotifications>();
        return services;
    }

    /// <summary>What cannot work in the database settings: an unknown kind, a missing connection string.</summary>
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
    }
}
