using Exchange.Server.Catalog;
using Exchange.Server.Hosting;
using Exchange.Server.Paging;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Storage;

internal static class StorageSetup
{
    public const string DatabaseFile = "exchange.db";

    /// <summary>The embedded store: one SQLite database under Exchange:DataDirectory.</summary>
    public static IServiceCollection AddExchangeStorage(this IServiceCollection services)
    {
        services.AddSingleton(provider =>
        {
            // A relative data directory is taken from the content root, wherever the process was started.
            var options = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value;
            var root = provider.GetRequiredService<IHostEnvironment>().ContentRootPath;
            var directory = System.IO.Path.GetFullPath(options.DataDirectory, root);
            return new Database(System.IO.Path.Combine(directory, DatabaseFile));
        });
        services.AddSingleton<PageTokens>();
        services.AddSingleton<CatalogStore>();
        services.AddHostedService<StorageInitializer>();
        return services;
    }
}
