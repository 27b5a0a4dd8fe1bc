using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Benchmarks.Transfers;

/// <summary>The bare gRPC server, run as its own process with the gateway's TLS certificate and Kestrel settings.</summary>
internal static class BareServer
{
    public static async Task RunAsync(int port, string certificateDirectory)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(certificateDirectory, "server.crt"), Path.Combine(certificateDirectory, "server.key"));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = Exchange.Server.Hosting.TlsSetup.ConnectionWindow;
            kestrel.Limits.Http2.InitialStreamWindowSize = Exchange.Server.Hosting.TlsSetup.StreamWindow;
            kestrel.ListenLocalhost(port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificate);
            });
        });
        builder.Services.AddGrpc(options => options.MaxReceiveMessageSize = 16 * 1024 * 1024);
        var app = builder.Build();
        app.MapGrpcService<BareTransfers>();
        app.MapGrpcService<Unary.BareUnary>();
        await app.RunAsync();
    }
}
