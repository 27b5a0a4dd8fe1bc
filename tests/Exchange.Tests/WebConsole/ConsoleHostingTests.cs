using System.Net;
using System.Text.Json;
using Exchange.Server.Hosting;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace Exchange.Tests.WebConsole;

/// <summary>
/// What the gateway serves for the console, in-process: its pages under the strict CSP, settings
/// with no secret, and gRPC-Web calls that are refused or allowed exactly as gRPC ones are.
/// </summary>
public sealed class ConsoleHostingTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private const string Policy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; font-src 'self'; " +
        "connect-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    [Fact]
    public async Task Console_responses_carry_the_strict_policy_and_settings_hold_no_secret()
    {
        using var http = Gateway.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var bare = await http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/console/", bare.Headers.Location?.ToString());
        Assert.Equal(Policy, bare.Headers.GetValues("Content-Security-Policy").Single());

        using var settings = await http.GetAsync("/console/settings.json");
        Assert.Equal(HttpStatusCode.OK, settings.StatusCode);
        Assert.Equal(Policy, settings.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", settings.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", settings.Headers.GetValues("X-Frame-Options").Single());
        using var json = JsonDocument.Parse(await settings.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("oidc").ValueKind);
        Assert.True(json.RootElement.GetProperty("tokenSignIn").GetBoolean());
        Assert.DoesNotContain("unsafe-inline", Policy, StringComparison.Ordinal);

        // Outside /console nothing changes: no page, and gRPC still needs a token.
        using var other = await http.GetAsync("/elsewhere");
        Assert.False(other.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public void With_an_OIDC_client_the_policy_adds_the_authority_origin_only()
    {
        var options = new ExchangeOptions();
        Assert.Equal(Policy, ConsoleSetup.ContentSecurityPolicy(options));
        options.Auth.Authority = "https://login.example.org/tenant/v2.0";
        Assert.Equal(Policy, ConsoleSetup.ContentSecurityPolicy(options));
        options.Console.ClientId = "exchange-console";
        Assert.Contains("connect-src 'self' https://login.example.org; ", ConsoleSetup.ContentSecurityPolicy(options), StringComparison.Ordinal);
        Assert.Empty(ConsoleSetup.Problems(options));
        options.Auth.Authority = null;
        Assert.Single(ConsoleSetup.Problems(options));
    }

    [Fact]
    public async Task GrpcWeb_calls_are_authorized_and_scoped_like_grpc_ones()
    {
        using var anonymous = WebClient(token: null);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await new AuditService.AuditServiceClient(anonymous).ListAuditEventsAsync(new ListAuditEventsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        var consumer = Participant.Initech.Fresh();
        using var consumerChannel = WebClient(ExchangeFactory.Token(consumer.Id, consumer.Roles));
        var created = await Assert.ThrowsAsync<RpcException>(async () =>
            await new CatalogService.CatalogServiceClient(consumerChannel).CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = "From the browser", Classification = Classification.Public },
            }));
        Assert.Equal(StatusCode.PermissionDenied, created.StatusCode);

        // The denial is logged as the consumer's own, like any other client's.
        var events = (await new AuditService.AuditServiceClient(consumerChannel).ListAuditEventsAsync(new ListAuditEventsRequest())).Events;
        Assert.Contains(events, e => e.Actor == consumer.Id && e.Action == "dataset.create" && e.Outcome == AuditOutcome.Denied);
        Assert.All(events, e => Assert.True(e.Actor == consumer.Id || e.Subject == consumer.Id));
    }

    private GrpcChannel WebClient(string? token)
    {
        var handler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, Gateway.Server.CreateHandler());
        var credentials = token is null
            ? ChannelCredentials.Insecure
            : ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("Authorization", $"Bearer {token}");
                return Task.CompletedTask;
            }));
        return GrpcChannel.ForAddress(Gateway.Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = handler,
            Credentials = credentials,
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }
}
