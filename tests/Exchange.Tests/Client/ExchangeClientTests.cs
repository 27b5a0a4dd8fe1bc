using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Exchange.Tests.Client;

public sealed class ExchangeClientTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
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
            Address = Gateway.Server.BaseAddress,
            HttpHandler = Gateway.Server.CreateHandler(),
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
            options.Address = Gateway.Server.BaseAddress;
            options.HttpHandler = Gateway.Server.CreateHandler();
            options.AllowInsecureTransport = true;
            options.UseToken(ExchangeFactory.Token(me.Id, me.Roles));
        });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ExchangeClient>();
        Assert.Same(client, provider.GetRequiredService<ExchangeClient>());
        var created = await CatalogFixture.CreateAsync(client);
        Assert.Equal("acme", created.Provider);
    }

    [Fact]
    public async Task The_di_extension_binds_its_options_from_configuration_and_applies_the_message_size_limit()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Exchange:Client:Address"] = Gateway.Server.BaseAddress.ToString(),
            ["Exchange:Client:AllowInsecureTransport"] = "true",
            ["Exchange:Client:Token"] = ExchangeFactory.Token("acme", "provider"),
            ["Exchange:Client:MaxReceiveMessageBytes"] = "100000",
        };
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddExchangeClient();
        services.Configure<ExchangeClientOptions>(o => o.HttpHandler = Gateway.Server.CreateHandler());
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ExchangeClientOptions>>().Value;
        Assert.Equal(100000, options.MaxReceiveMessageBytes);
        var client = provider.GetRequiredService<ExchangeClient>();
        Assert.Same(client, provider.GetRequiredService<ExchangeClient>());
        var created = await CatalogFixture.CreateAsync(client);
        Assert.Equal("acme", created.Provider);
        Assert.Equal(created.Name, (await client.GetDatasetAsync(created.Name)).Name);

        // The same, with a limit below the size of one dataset: the reply is refused as too large.
        settings["Exchange:Client:MaxReceiveMessageBytes"] = "10";
        var small = new ServiceCollection();
        small.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        small.AddExchangeClient();
        small.Configure<ExchangeClientOptions>(o => o.HttpHandler = Gateway.Server.CreateHandler());
        await using var smallProvider = small.BuildServiceProvider();
        var refused = await Assert.ThrowsAsync<RpcException>(() => smallProvider.GetRequiredService<ExchangeClient>().GetDatasetAsync(created.Name));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);

        // Without an address: resolving the client says which key is missing.
        var none = new ServiceCollection();
        none.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        none.AddExchangeClient();
        await using var noneProvider = none.BuildServiceProvider();
        var missing = Assert.Throws<OptionsValidationException>(() => noneProvider.GetRequiredService<ExchangeClient>());
        Assert.Contains("Exchange:Client:Address", missing.Message);
    }

    [Fact]
    public void A_custom_handler_never_silently_drops_the_ca_file_or_client_certificate()
    {
        var caFile = Path.Combine(AppContext.BaseDirectory, "certs-dev", "ca.crt");

        // A handler TLS settings cannot be applied to: refused, saying so.
        var ex = Assert.Throws<ArgumentException>(() => new ExchangeClient(new ExchangeClientOptions
        {
            Address = Gateway.Server.BaseAddress,
            HttpHandler = Gateway.Server.CreateHandler(),
            AllowInsecureTransport = true,
            CaCertificateFile = caFile,
        }));
        Assert.Contains("conflicts with CaCertificateFile and ClientCertificate", ex.Message);

        // A socket handler without TLS settings of its own gets them.
        var sockets = new SocketsHttpHandler();
        using (new ExchangeClient(new ExchangeClientOptions
        {
            Address = new Uri("https://127.0.0.1:5001"),
            HttpHandler = new PassThrough(sockets),
            CaCertificateFile = caFile,
        }))
        {
            Assert.NotNull(sockets.SslOptions.RemoteCertificateValidationCallback);
        }

        // One that validates certificates its own way: refused rather than overridden.
        var own = new SocketsHttpHandler();
        own.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        Assert.Throws<ArgumentException>(() => new ExchangeClient(new ExchangeClientOptions
        {
            Address = new Uri("https://127.0.0.1:5001"),
            HttpHandler = own,
            CaCertificateFile = caFile,
        }));
    }

    [Fact]
    public async Task An_upload_the_gateway_refuses_while_the_client_is_still_writing_reports_the_refusal()
    {
        using var acme = Gateway.ClientFor("acme", "provider");
        using var globex = Gateway.ClientFor("globex", "provider");
        var dataset = await acme.CreateDatasetAsync(new Dataset { Title = "Not globex's", Classification = Classification.Internal });

        // The gateway refuses on the header and ends the call while chunks are still on their way;
        // when a write loses that race (often enough in 100 tries), the caller must still hear the
        // gateway's reason, not "cancelled".
        var content = new byte[1 << 20];
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => globex.UploadAsync(dataset.Name, new MemoryStream(content)));
            Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        }
    }

    [Fact]
    public async Task The_facade_takes_a_dataset_from_creation_through_a_download_to_revocation()
    {
        using var acme = Gateway.ClientFor("acme", "provider");
        using var initech = Gateway.ClientFor("initech", "consumer");
        var dataset = await acme.CreateDatasetAsync(new Dataset { Title = "Facade walk", Classification = Classification.Internal, Tags = { "facade" } });
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new UploadOptions { MediaType = "text/csv" });
        Assert.Equal(DatasetState.Listed, (await acme.PublishDatasetAsync(dataset.Name)).State);
        Assert.Contains(await initech.EnumerateDatasetsAsync(new ListDatasetsRequest { Tag = "facade" }).ToListAsync(), d => d.Name == dataset.Name);

        var withdrawn = await initech.RequestAccessAsync(dataset.Name, new AccessRequestOptions { Purpose = "research" });
        Assert.Equal(AccessRequestState.Withdrawn, (await initech.WithdrawAccessRequestAsync(withdrawn.Name)).State);
        var rejected = await initech.RequestAccessAsync(dataset.Name, new AccessRequestOptions { Purpose = "research" });
        Assert.Equal(AccessRequestState.Rejected, (await acme.RejectAccessRequestAsync(rejected.Name, "not now")).State);
        var request = await initech.RequestAccessAsync(dataset.Name, new AccessRequestOptions { Purpose = "research" });
        var grant = await acme.ApproveAccessRequestAsync(request.Name);
        Assert.Equal((dataset.Name, "initech", GrantState.Active), (grant.Dataset, grant.Consumer, grant.State));
        Assert.Contains(await initech.EnumerateGrantsAsync().ToListAsync(), g => g.Name == grant.Name);

        var path = Path.Combine(Path.GetTempPath(), $"facade-{Guid.NewGuid():N}.csv");
        try
        {
            var result = await initech.DownloadToFileAsync(grant.Name, path, new DownloadOptions { Purpose = "research" });
            Assert.True(result.Verification.Succeeded, result.Verification.Message);
            Assert.Equal(CatalogFixture.SampleBytes, await File.ReadAllBytesAsync(path));
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Equal(GrantState.Revoked, (await acme.RevokeGrantAsync(grant.Name, "done")).State);
        Assert.Equal(GrantState.Revoked, (await initech.GetGrantAsync(grant.Name)).State);
        Assert.Equal(DatasetState.Delisted, (await acme.DelistDatasetAsync(dataset.Name, "superseded")).State);
    }

    [Fact]
    public async Task An_audit_log_that_does_not_verify_fails_with_its_reason_as_data()
    {
        using var auditor = Gateway.ClientFor("audit-co", "auditor");
        using (var acme = Gateway.ClientFor("acme", "provider"))
        {
            await CatalogFixture.CreateAsync(acme);
        }

        var (_, stranger) = CheckpointForgery.FreshKey("stranger.example/audit");

        var verification = await auditor.VerifyAuditLogAsync(new AuditLogVerifyOptions { AuditLogKey = stranger });
        Assert.False(verification.Succeeded);
        Assert.Equal(VerificationCheck.Signature, verification.FailedCheck);
        var thrown = Assert.Throws<VerificationException>(verification.ThrowIfFailed);
        Assert.Equal((VerificationCheck.Signature, verification.Message), (thrown.FailedCheck, thrown.Message));
        Assert.Same(verification, thrown.AuditLog);

        var verified = await auditor.VerifyAuditLogAsync();
        Assert.True(verified.Succeeded, verified.Message);
        Assert.Equal(VerificationCheck.None, verified.FailedCheck);
        verified.ThrowIfFailed();
    }

    private sealed class PassThrough(HttpMessageHandler inner) : DelegatingHandler(inner);
}
