using Exchange.Client;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers an <see cref="ExchangeClient"/> with dependency injection: one shared client whose calls go through
/// <c>AddGrpcClient</c> (so <c>IHttpClientFactory</c> owns the HTTP handler), configured by
/// <see cref="IOptions{TOptions}"/> of <see cref="ExchangeClientOptions"/>.
/// </summary>
public static class ExchangeClientServiceCollectionExtensions
{
    /// <summary>The name of the gRPC client (and its HTTP client) the <see cref="ExchangeClient"/> calls through.</summary>
    public const string ClientName = "Exchange.Client";

    /// <summary>
    /// Adds one shared <see cref="ExchangeClient"/> whose options bind from the configuration section
    /// <paramref name="configSectionPath"/> (e.g. <c>Exchange:Client:Address</c>, <c>Exchange:Client:CaCertificateFile</c>,
    /// <c>Exchange:Client:Token</c>, <c>Exchange:Client:MaxReceiveMessageBytes</c>); more can be set with
    /// <c>services.Configure&lt;ExchangeClientOptions&gt;(…)</c>. Requires an <c>IConfiguration</c> service, as a host provides.
    /// </summary>
    /// <returns>The HTTP client builder of the underlying gRPC client, to add handlers or policies.</returns>
    public static IHttpClientBuilder AddExchangeClient(this IServiceCollection services, string configSectionPath = ExchangeClientOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(configSectionPath);
        services.AddOptions<ExchangeClientOptions>().BindConfiguration(configSectionPath);
        return AddCore(services);
    }

    /// <summary>
    /// Adds one shared <see cref="ExchangeClient"/>, configured by <paramref name="configure"/>
    /// (which may resolve other services, e.g. a token source).
    /// </summary>
    /// <returns>The HTTP client builder of the underlying gRPC client, to add handlers or policies.</returns>
    public static IHttpClientBuilder AddExchangeClient(this IServiceCollection services, Action<IServiceProvider, ExchangeClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ExchangeClientOptions>().Configure<IServiceProvider>((options, provider) => configure(provider, options));
        return AddCore(services);
    }

    /// <summary>Adds one shared <see cref="ExchangeClient"/>, configured by <paramref name="configure"/>.</summary>
    /// <returns>The HTTP client builder of the underlying gRPC client, to add handlers or policies.</returns>
    public static IHttpClientBuilder AddExchangeClient(this IServiceCollection services, Action<ExchangeClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddExchangeClient((_, options) => configure(options));
    }

    private static IHttpClientBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<ExchangeClientOptions>()
            .Validate(options => options.Address is not null,
                $"ExchangeClientOptions.Address is required (configuration key {ExchangeClientOptions.SectionName}:Address, or Configure<ExchangeClientOptions>).")
            .Validate(options => options.MaxReceiveMessageBytes is null or > 0 && options.MaxSendMessageBytes is null or > 0,
                "ExchangeClientOptions.MaxReceiveMessageBytes and MaxSendMessageBytes must be positive, or null for no limit.");
        services.TryAddSingleton(provider =>
        {
            var options = OptionsOf(provider);
            ExchangeClient.CheckTransport(options);
            var invoker = provider.GetRequiredService<GrpcClientFactory>().CreateClient<ExchangeCallInvoker>(ClientName).Invoker;
            return new ExchangeClient(invoker, options);
        });

        return services
            .AddGrpcClient<ExchangeCallInvoker>(ClientName, (provider, client) =>
                client.Address = OptionsOf(provider).Address ?? throw new InvalidOperationException(
                    $"ExchangeClientOptions.Address is not set (configuration key {ExchangeClientOptions.SectionName}:Address, or Configure<ExchangeClientOptions>)."))
            .ConfigurePrimaryHttpMessageHandler(provider => ExchangeClient.CreateHandler(OptionsOf(provider)))
            // The shared client keeps one long-lived connection, as gRPC wants; a handler given in the options is never rebuilt.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureChannel((provider, channel) =>
            {
                var options = OptionsOf(provider);
                var insecure = ExchangeClient.CheckTransport(options);
                ExchangeClient.ApplyLimits(options, channel);
                channel.UnsafeUseInsecureChannelCallCredentials = insecure;
                if (ExchangeClient.CallCredentialsOf(options) is { } credentials)
                {
                    channel.Credentials = Grpc.Core.ChannelCredentials.Create(
                        insecure ? Grpc.Core.ChannelCredentials.Insecure : Grpc.Core.ChannelCredentials.SecureSsl, credentials);
                }
            });
    }

    private static ExchangeClientOptions OptionsOf(IServiceProvider provider) => provider.GetRequiredService<IOptions<ExchangeClientOptions>>().Value;
}
