using Exchange.Server.Transfers;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Infrastructure;

/// <summary>Puts a test's wrapper around the blob store the gateway registered.</summary>
internal static class BlobStores
{
    /// <summary>Replaces the gateway's <see cref="IBlobStore"/> by <paramref name="wrap"/> of it; a test reaches the wrapper as the gateway's store.</summary>
    public static void Wrap(IServiceCollection services, Func<IBlobStore, IBlobStore> wrap)
    {
        var registered = services.Last(descriptor => descriptor.ServiceType == typeof(IBlobStore));
        var create = registered.ImplementationFactory ??
            throw new InvalidOperationException("A test wraps an IBlobStore registered through a factory, as StorageSetup registers it.");
        services.Remove(registered);
        services.AddSingleton(provider => wrap((IBlobStore)create(provider)));
    }
}
