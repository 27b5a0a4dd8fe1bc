using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

/// <summary>Where the gateway keeps its files (the SQLite database, local blobs, generated keys).</summary>
internal static class DataDirectory
{
    /// <summary>Exchange:DataDirectory; a relative one is taken from the content root, wherever the process was started.</summary>
    public static string Of(IServiceProvider provider)
    {
        var root = provider.GetRequiredService<IHostEnvironment>().ContentRootPath;
        return Path.GetFullPath(provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.DataDirectory, root);
    }
}
