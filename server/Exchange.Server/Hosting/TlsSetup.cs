using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Hosting;

internal static class TlsSetup
{
    public const string DefaultUrl = "https://127.0.0.1:5001";

    /// <summary>HTTP/2 flow-control windows large enough that a loopback or LAN transfer is never waiting for window updates.</summary>
    public const int ConnectionWindow = 16 * 1024 * 1024;

    public const int StreamWindow = 8 * 1024 * 1024;

    /// <summary>
    /// Listens on <see cref="DefaultUrl"/> unless --urls (or any other urls setting) says
    /// otherwise, and serves the configured PEM certificate on every HTTPS endpoint. Kestrel's
    /// options are made from the validated Exchange:Tls and Exchange:Limits (<see cref="Problems"/>)
    /// when the server starts.
    /// </summary>
    public static WebApplicationBuilder AddExchangeTls(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) &&
            string.IsNullOrEmpty(builder.Configuration["http_ports"]) &&
            string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // One set of HTTPS defaults: Kestrel keeps only the last ConfigureHttpsDefaults.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ExchangeOptions>, TimeProvider>((kestrel, exchange, time) =>
        {
            var (tls, limits) = (exchange.Value.Tls, exchange.Value.Limits);
            kestrel.Limits.Http2.InitialConnectionWindowSize = ConnectionWindow;
            kestrel.Limits.Http2.InitialStreamWindowSize = StreamWindow;
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
            kestrel.Limits.Http2.KeepAlivePingDelay = limits.KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;
            var certificate = ServerCertificate(tls);
            var mode = Mode(tls);
            var trust = mode == ClientCertificateMode.NoCertificate ? null : ClientTrust(tls, time);
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
            {
                endpoint.Protocols = HttpProtocols.Http1AndHttp2;

                // Endpoint defaults are applied before Kestrel adds TLS, so this runs first on each
                // connection and both TLS and HTTP/2 take their memory from the pool.
                endpoint.Use(next => connection =>
                {
                    connection.Features.Set<IMemoryPoolFeature>(ConnectionBlockPool.Instance);
                    return next(connection);
                });
            });
        });
        return builder;
    }

    /// <summary>What cannot work in Exchange:Tls: an unknown client certificate mode, files that are not there, plain http beside mutual TLS.</summary>
    public static IEnumerable<string> Problems(TlsOptions tls, string? urls)
    {
        if (!string.IsNullOrWhiteSpace(tls.CertificateFile))
        {
            foreach (var file in new[] { tls.CertificateFile, tls.KeyFile }.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => ConfigPaths.Resolve(f!)))
            {
                if (!File.Exists(file))
                {
                    yield return $"TLS file '{file}' (Exchange:Tls) does not exist.";
                }
            }
        }

        if (tls.ClientCertificates is not ("off" or "optional" or "required"))
        {
            yield return $"Exchange:Tls:ClientCertificates '{tls.ClientCertificates}' is not 'off', 'optional' or 'required'.";
            yield break;
        }

        if (tls.ClientCertificates == "off")
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(tls.ClientCaFile) || !File.Exists(ConfigPaths.Resolve(tls.ClientCaFile)))
        {
            yield return $"Exchange:Tls:ClientCertificates is '{tls.ClientCertificates}': Exchange:Tls:ClientCaFile must name the PEM file of the CA that issues client certificates.";
        }

        if ((urls ?? "").Contains("http://", StringComparison.OrdinalIgnoreCase))
        {
            // A plain-HTTP endpoint would serve callers with no certificate at all while mutual TLS looks switched on.
            yield return $"Exchange:Tls:ClientCertificates is '{tls.ClientCertificates}', but '{urls}' includes plain http; use https endpoints only.";
        }
    }

    private static X509Certificate2? ServerCertificate(TlsOptions tls) =>
        string.IsNullOrWhiteSpace(tls.CertificateFile)
            ? null
            : X509Certificate2.CreateFromPemFile(ConfigPaths.Resolve(tls.CertificateFile),
                string.IsNullOrWhiteSpace(tls.KeyFile) ? null : ConfigPaths.Resolve(tls.KeyFile));

    /// <summary>Mutual TLS as Exchange:Tls:ClientCertificates says; a certificate that is presented must be one the client CA vouches for.</summary>
    private static ClientCertificateMode Mode(TlsOptions tls) => tls.ClientCertificates switch
    {
        "optional" => ClientCertificateMode.AllowCertificate,
        "required" => ClientCertificateMode.RequireCertificate,
        _ => ClientCertificateMode.NoCertificate,
    };

    private static Security.ClientCertificateTrust ClientTrust(TlsOptions tls, TimeProvider time)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(ConfigPaths.Resolve(tls.ClientCaFile!));
        return new Security.ClientCertificateTrust(roots, time);
    }
}
