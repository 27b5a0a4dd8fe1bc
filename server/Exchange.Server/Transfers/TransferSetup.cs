using Exchange.Server.Hosting;
using Exchange.Server.Storage;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Transfers;

internal static class TransferSetup
{
    /// <summary>
    /// Uploads and downloads: revision bytes sealed under per-revision data keys on local files or
    /// S3, the transfers table, and the background work that keeps both honest (orphaned transfers,
    /// leftover blobs, rewrapped keys).
    /// </summary>
    public static IServiceCollection AddExchangeTransfers(this IServiceCollection services)
    {
        services.AddSingleton<IBlobStore>(provider =>
        {
            var blobs = Options(provider).Blobs;
            return blobs.Kind == "s3"
                ? new S3BlobStore(blobs.S3, provider.GetRequiredService<TimeProvider>())
                : new LocalBlobStore(Path.Combine(DataDirectory.Of(provider), "blobs"));
        });
        services.AddSingleton(provider => KeyRing.Load(Options(provider).Encryption, DataDirectory.Of(provider),
            provider.GetRequiredService<DatabaseEngine>().Shared));
        services.AddSingleton<GatewayInstance>();
        services.AddSingleton<TransferStore>();
        services.AddSingleton<UploadPipeline>();
        services.AddSingleton<DownloadStreamer>();
        services.AddSingleton(provider => new Tables.MaskKeys(provider.GetRequiredService<Storage.StorageInitializer>().MaskKey));
        services.AddSingleton<LiveTransfers>();
        services.AddHostedService<OrphanedTransfers>();
        services.AddHostedService<RevisionMaintenance>();
        return services;
    }

    /// <summary>What cannot work in the transfer settings: an unknown blob kind, key-encryption keys that are not there, a non-positive orphan timeout, table limits below one column or 1 KiB rows.</summary>
    public static IEnumerable<string> Problems(ExchangeOptions options)
    {
        if (options.Blobs.Kind is not ("local" or "s3"))
        {
            yield return $"Exchange:Blobs:Kind '{options.Blobs.Kind}' is not 'local' or 's3'.";
        }

        foreach (var problem in KeyRing.Problems(options.Encryption, sharedDatabase: options.Database.Kind == "postgres"))
        {
            yield return problem;
        }

        if (options.Transfers.OrphanTimeout <= TimeSpan.Zero)
        {
            yield return $"Exchange:Transfers:OrphanTimeout must be positive, not {options.Transfers.OrphanTimeout}.";
        }

        if (options.Transfers.StallTimeout <= TimeSpan.Zero || options.Transfers.StallTimeout > TimeSpan.FromDays(1))
        {
            yield return $"Exchange:Transfers:StallTimeout must be positive and at most a day, not {options.Transfers.StallTimeout}.";
        }

        if (options.Transfers.MaxTableColumns < 1 || options.Transfers.MaxTableRowBytes < 1024)
        {
            yield return "Exchange:Transfers:MaxTableColumns must be at least 1 and MaxTableRowBytes at least 1024.";
        }
    }

    private static ExchangeOptions Options(IServiceProvider provider) => provider.GetRequiredService<IOptions<ExchangeOptions>>().Value;
}
