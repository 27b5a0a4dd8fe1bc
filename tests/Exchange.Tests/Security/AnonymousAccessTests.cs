using Exchange.Tests.Infrastructure;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Security;

/// <summary>
/// Every mapped gRPC method requires an authenticated caller, except health and reflection; the
/// only other endpoints open to anyone are the web console's page and its sign-in settings. The
/// methods are read from the running server's endpoints, so a service added later is covered
/// without touching this test.
/// </summary>
public sealed class AnonymousAccessTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly string[] AnonymousServices = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Fact]
    public async Task No_mapped_method_is_reachable_without_a_token_except_health_and_reflection()
    {
        _ = Gateway.Server;
        var methods = Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Where(m => !AnonymousServices.Contains(m.ServiceName))
            .DistinctBy(m => m.FullName)
            .ToList();

        Assert.Contains(methods, m => m.FullName == "/exchange.v1.CatalogService/ListDatasets");
        Assert.Contains(methods, m => m.FullName == "/exchange.v1.TransferService/Download");
        Assert.True(methods.Count >= 26, $"expected every exchange.v1 method, found {methods.Count}");

        using var anonymous = Gateway.ClientWithToken(null);
        var reachable = new List<string>();
        foreach (var method in methods)
        {
            var status = await CallAnonymously(anonymous.Channel.CreateCallInvoker(), method);
            if (status != StatusCode.Unauthenticated)
            {
                reachable.Add($"{method.FullName} answered {status}");
            }
        }

        Assert.Empty(reachable);
    }

    [Fact]
    public async Task Health_answers_without_a_token()
    {
        using var anonymous = Gateway.ClientWithToken(null);
        var health = new Health.HealthClient(anonymous.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public void Only_health_reflection_and_the_console_page_are_open_to_anyone()
    {
        _ = Gateway.Server;
        var open = Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null)
            .ToList();
        Assert.All(open.Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName).OfType<string>(),
            service => Assert.Contains(service, AnonymousServices));
        // The page must load before anyone signs in: static files and settings that hold no data and no secret.
        // (Besides the anonymous services' own route for methods they do not have.)
        Assert.Equal(["/console/settings.json", "/console/{*path:nonfile}"],
            open.Where(e => e.Metadata.GetMetadata<GrpcMethodMetadata>() is null).Select(e => ((RouteEndpoint)e).RoutePattern.RawText!)
                .Where(route => !AnonymousServices.Any(service => route.StartsWith(service + "/{unimplementedMethod", StringComparison.Ordinal)))
                .Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Reflection_turned_off_is_not_served_at_all()
    {
        using var closed = ExchangeFactory.With(("Exchange:Reflection", "false"));
        _ = closed.Server;
        var services = closed.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName)
            .OfType<string>()
            .ToHashSet();
        Assert.Contains("exchange.v1.CatalogService", services);
        Assert.DoesNotContain(services, s => s.StartsWith("grpc.reflection.", StringComparison.Ordinal));

        using var auditor = closed.ClientFor(Participant.Auditor);
        using var call = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(auditor.Channel).ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(10));
        // Only the response is read: the server answers before any request, and a write racing that
        // answer could see the call as cancelled instead of its status.
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
    }

    private static async Task<StatusCode> CallAnonymously(CallInvoker invoker, IMethod method)
    {
        var type = (MethodType)method.GetType().GetProperty("Type")!.GetValue(method)!;
        var call = new Method<byte[], byte[]>(type, method.ServiceName, method.Name, Bytes, Bytes);
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(call, null, options, []);
                    break;
                case MethodType.ServerStreaming:
                    using (var stream = invoker.AsyncServerStreamingCall(call, null, options, []))
                    {
                        while (await stream.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }

                    break;
                case MethodType.ClientStreaming:
                    using (var upload = invoker.AsyncClientStreamingCall(call, null, options))
                    {
                        await upload.RequestStream.CompleteAsync();
                        await upload;
                    }

                    break;
                case MethodType.DuplexStreaming:
                    using (var duplex = invoker.AsyncDuplexStreamingCall(call, null, options))
                    {
                        await duplex.RequestStream.CompleteAsync();
                        while (await duplex.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }

                    break;
            }

            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
