using System.Security.Cryptography.X509Certificates;

namespace Exchange.Server.Hosting;

internal static class TlsSetup
{
    public const string DefaultUrl = "https://127.0.0.1:5001";

    /// <summary>HTTP/2 flow-control windows large enough that a loopback or LAN transfer is never waiting for window updates.</summary>
    public const int ConnectionWindow = 16 * 1024 * 1024;

    public const int StreamWindow = 8 * 1024 * 1024;

    /// <summary>
    /// Listens on <see cref="DefaultUrl"/> unless --urls (or any other urls setting) says
    /// otherwise, and serves the configured PEM certificate on every HTTPS endpoint.
    /// </summary>
    public static WebApplicationBuilder AddExchangeTls(this WebApplicationBuilder builder, TlsOptions tls, Limits.LimitOptions limits)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) &&
            string.IsNullOrEmpty(builder.Configuration["http_ports"]) &&
            string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = ConnectionWindow;
            kestrel.Limits.Http2.InitialStreamWindowSize = StreamWindow;
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
            kestrel.Limits.Http2.KeepAlivePingDelay = limits.KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;
        });

        if (string.IsNullOrWhiteSpace(tls.CertificateFile))
        {
            return builder;
        }

        var certificatePath = ConfigPaths.Resolve(tls.CertificateFile);
        var keyPath = string.IsNullOrWhiteSpace(tls.KeyFile) ? null : ConfigPaths.Resolve(tls.KeyFile);
        foreach (var file in new[] { certificatePath, keyPath }.OfType<string>().Where(f => !File.Exists(f)))
        {
            throw new StartupException($"TLS file '{file}' (Exchange:Tls) does not exist.");
        }

        var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
            kestrel.ConfigureEndpointDefaults(endpoint =>
                endpoint.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2);
        });
        return builder;
    }
}
