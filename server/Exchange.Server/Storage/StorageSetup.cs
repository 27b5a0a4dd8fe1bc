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

    /// <summary>The embedded store: one SQLite database under Exchange:DataDirectory.</summary>
    public static IServiceCollection AddExchangeStorage(this IServiceCollection services, ExchangeOptions exchangeOptions)
    {
        // Loaded now, so a missing or malformed key stops the start with a clear message.
        services.AddSingleton(new CheckpointSigner(exchangeOptions.Audit));
        services.AddSingleton(provider =>
        {
            return new Database(System.IO.Path.Combine(DataDirectory(provider), DatabaseFile), provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<Database>>());
        });
        services.AddSingleton<PageTokens>();
        services.AddSingleton<IBlobStore>(provider =>
        {
            var blobs = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Blobs;
            return blobs.Kind switch
            {
                "local" => new LocalBlobStore(System.IO.Path.Combine(DataDirectory(provider), "blobs")),
                "s3" => new S3BlobStore(blobs.S3, provider.GetRequiredService<TimeProvider>()),
                _ => throw new Hosting.StartupException($"Exchange:Blobs:Kind '{blobs.Kind}' is not 'local' or 's3'."),
            };
        });
        services.AddSingleton(provider => KeyRing.Load(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Encryption, DataDirectory(provider)));
        services.AddSingleton<TransferStore>();
        services.AddSingleton<GrantSignals>();
        services.AddSingleton<CatalogStore>();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AccessStore>();
        services.AddHostedService<StorageInitializer>();
        services.AddHostedService<RevisionMaintenance>();
        services.AddHostedService<CheckpointPublisher>();
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
