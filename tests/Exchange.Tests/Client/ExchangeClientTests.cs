using Exchange.Client;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Client;

public sealed class ExchangeClientTests(ExchangeFactory factory) : IClassFixture<ExchangeFactory>
{
    [Fact]
    public void An_unencrypted_address_is_refused_unless_explicitly_allowed()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ExchangeClient(new ExchangeClientOptions { Address = new Uri("http://example.test") }));
        Assert.Contains("AllowInsecureTransport", ex.Message);
    }

    [Fact]
    public async Task The_token_provider_is_asked_before_every_call()
    {
        var calls = 0;
        using var client = new ExchangeClient(new ExchangeClientOptions
        {
            Address = factory.Server.BaseAddress,
            HttpHandler = factory.Server.CreateHandler(),
            AllowInsecureTransport = true,
            TokenProvider = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult<string?>(ExchangeFactory.Token("initech", "consumer"));
            },
        });

        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task The_di_extension_registers_one_shared_client_configured_from_services()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new Participant("acme", "provider"));
        services.AddExchangeClient((provider, options) =>
        {
            var me = provider.GetRequiredService<Participant>();
            options.Address = factory.Server.BaseAddress;
            options.HttpHandler = factory.Server.CreateHandler();
            options.AllowInsecureTransport = true;
            options.UseToken(ExchangeFactory.Token(me.Id, me.Roles));
        });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ExchangeClient>();
        Assert.Same(client, provider.GetRequiredService<ExchangeClient>());
        var created = await CatalogFixture.CreateAsync(client);
        Assert.Equal("acme", created.Provider);
    }
}
