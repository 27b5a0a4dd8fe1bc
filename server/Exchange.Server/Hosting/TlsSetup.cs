using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

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
        var certificate = ServerCertificate(tls);
        var (mode, trust) = ClientCertificates(tls);
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? "";
        if (mode != ClientCertificateMode.NoCertificate && urls.Contains("http://", StringComparison.OrdinalIgnoreCase))
        {
            // A plain-HTTP endpoint would serve callers with no certificate at all while mutual TLS looks switched on.
            throw new StartupException($"Exchange:Tls:ClientCertificates is '{tls.ClientCertificates}', but '{urls}' includes plain http; use https endpoints only.");
        }

        // One set of HTTPS defaults: Kestrel keeps only the last ConfigureHttpsDefaults.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttpsDefaults(https =>
            {
                if (certificate is not null)
                {
                    https.ServerCertificate = certificate;
                }

                https.ClientCertificateMode = mode;
                if (trust is not null)
                {
                    https.ClientCertificateValidation = (presented, _, _) => trust.Accepts(presented);
                }
            });
            kestrel.ConfigureEndpointDefaults(endpoint =>
                endpoint.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2);
        });
        return builder;
    }

    private static X509Certificate2? ServerCertificate(TlsOptions tls)
    {
        if (string.IsNullOrWhiteSpace(tls.CertificateFile))
        {
            return null;
        }

        var certificatePath = ConfigPaths.Resolve(tls.CertificateFile);
        var keyPath = string.IsNullOrWhiteSpace(tls.KeyFile) ? null : ConfigPaths.Resolve(tls.KeyFile);
        foreach (var file in new[] { certificatePath, keyPath }.OfType<string>().Where(f => !File.Exists(f)))
        {
            throw new StartupException($"TLS file '{file}' (Exchange:Tls) does not exist.");
        }

        return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
    }

    /// <summary>Mutual TLS as Exchange:Tls:ClientCertificates says; a certificate that is presented must be one the client CA vouches for.</summary>
    private static (ClientCertificateMode Mode, Security.ClientCertificateTrust? Trust) ClientCertificates(TlsOptions tls)
    {
        var mode = tls.ClientCertificates switch
        {
            "off" => ClientCertificateMode.NoCertificate,
            "optional" => ClientCertificateMode.AllowCertificate,
            "required" => ClientCertificateMode.RequireCertificate,
            _ => throw new StartupException($"Exchange:Tls:ClientCertificates '{tls.ClientCertificates}' is not 'off', 'optional' or 'required'."),
        };
        if (mode == ClientCertificateMode.NoCertificate)
        {
            return (mode, null);
        }

        if (string.IsNullOrWhiteSpace(tls.ClientCaFile) || !File.Exists(ConfigPaths.Resolve(tls.ClientCaFile)))
        {
            throw new StartupException(
                $"Exchange:Tls:ClientCertificates is '{tls.ClientCertificates}': Exchange:Tls:ClientCaFile must name the PEM file of the CA that issues client certificates.");
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(ConfigPaths.Resolve(tls.ClientCaFile));
        return (mode, new Security.ClientCertificateTrust(roots, TimeProvider.System));
    }
}
