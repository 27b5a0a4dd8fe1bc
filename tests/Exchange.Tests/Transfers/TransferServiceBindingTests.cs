using Exchange.Server.Transfers;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Transfers;

/// <summary>TransferService is bound by our own method: Upload reads through the pooling marshaller, and reflection still describes the service whole.</summary>
public sealed class TransferServiceBindingTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    [Fact]
    public void Upload_reads_its_messages_through_the_pooling_marshaller_and_the_other_methods_as_generated()
    {
        _ = Gateway.Server;
        var methods = Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Where(m => m.ServiceName == "exchange.v1.TransferService")
            .ToDictionary(m => m.Name);

        Assert.Equal(["Download", "GetTransfer", "ListTransfers", "PreviewDelivery", "Upload"], methods.Keys.Order());
        var upload = Assert.IsType<Method<UploadRequest, UploadResponse>>(methods["Upload"]);
        Assert.Equal(UploadRequestMarshaller.Parse, upload.RequestMarshaller.ContextualDeserializer);
        var download = Assert.IsType<Method<DownloadRequest, DownloadResponse>>(methods["Download"]);
        Assert.Same(V1TransferMethods.Download.RequestMarshaller, download.RequestMarshaller);
    }

    [Fact]
    public async Task Reflection_describes_the_transfer_service_with_all_its_methods()
    {
        using var client = Gateway.ClientFor(Participant.Auditor);
        using var call = new ServerReflection.ServerReflectionClient(client.Channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "exchange.v1.TransferService" });
        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "exchange.v1.TransferService");
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(bytes));
        var service = files.SelectMany(f => f.Service).Single(s => s.Name == "TransferService");
        Assert.Equal(["Download", "GetTransfer", "ListTransfers", "PreviewDelivery", "Upload"], service.Method.Select(m => m.Name).Order());
    }

    /// <summary>The generated method definitions, for comparing marshallers.</summary>
    private static class V1TransferMethods
    {
        public static readonly Method<DownloadRequest, DownloadResponse> Download = (Method<DownloadRequest, DownloadResponse>)typeof(V1.TransferService)
            .GetField("__Method_Download", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
    }
}
