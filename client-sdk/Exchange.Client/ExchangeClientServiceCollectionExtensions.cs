using Exchange.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an <see cref="ExchangeClient"/> with dependency injection.</summary>
public static class ExchangeClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds one shared <see cref="ExchangeClient"/>, configured by <paramref name="configure"/>
    /// (which may resolve other services, e.g. a token source).
    /// </summary>
    public static IServiceCollection AddExchangeClient(this IServiceCollection services,
        Action<IServiceProvider, ExchangeClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(provider =>
        {
            var options = new ExchangeClientOptions();
            configure(provider, options);
            return new ExchangeClient(options);
        });
        return services;
    }

    /// <summary>Adds one shared <see cref="ExchangeClient"/>, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddExchangeClient(this IServiceCollection services, Action<ExchangeClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddExchangeClient((_, options) => configure(options));
    }
}
