using Exchange.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace Exchange.WebConsole.Services;

/// <summary>
/// Clients of the gateway's services over gRPC-Web, on the origin that served the console. Every
/// call carries the session's bearer token, as any client's does: the console has no access of its own.
/// </summary>
internal sealed class Gateway
{
    public Gateway(Uri baseAddress, Session session)
    {
        var origin = new Uri(baseAddress.GetLeftPart(UriPartial.Authority));
        var handler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new BearerHandler(session) { InnerHandler = new HttpClientHandler() });
        var channel = GrpcChannel.ForAddress(origin, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
        Catalog = new CatalogService.CatalogServiceClient(channel);
        Access = new AccessService.AccessServiceClient(channel);
        Transfers = new TransferService.TransferServiceClient(channel);
        Audit = new AuditService.AuditServiceClient(channel);
    }

    public CatalogService.CatalogServiceClient Catalog { get; }

    public AccessService.AccessServiceClient Access { get; }

    public TransferService.TransferServiceClient Transfers { get; }

    public AuditService.AuditServiceClient Audit { get; }
}
