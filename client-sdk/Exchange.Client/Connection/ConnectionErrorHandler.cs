using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Exchange.Client.Connection;

/// <summary>
/// In front of the socket handler: turns what fails before a call reaches the gateway (refused
/// connection, unknown host, an untrusted or misnamed TLS certificate) into a
/// <see cref="GatewayConnectionException"/> that names the problem and what to do about it.
/// </summary>
internal sealed class ConnectionErrorHandler(HttpMessageHandler inner, TlsDiagnostics tls, string? caFile) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (Describe(ex, request.RequestUri!) is { } described)
        {
            throw described;
        }
    }

    private GatewayConnectionException? Describe(HttpRequestException ex, Uri uri)
    {
        var address = new Uri(uri.GetLeftPart(UriPartial.Authority));
        if (Find<AuthenticationException>(ex) is not null)
        {
            var failure = tls.Last;
            if (failure is { NameMismatch: true, Untrusted: false })
            {
                return new GatewayConnectionException(ConnectionFailure.NameMismatch, address,
                    $"The gateway's TLS certificate is for {string.Join(", ", failure.Names)}, not {uri.Host}; connect to {address} by one of those names.", ex)
                {
                    CertificateNames = failure.Names,
                    CaCertificateFile = caFile,
                };
            }

            var status = failure?.ChainStatus is { Length: > 0 } s ? $" ({s})" : "";
            var message = caFile is null
                ? $"The gateway's TLS certificate at {address} is not trusted{status}: trust the CA that issued it " +
                  "(ExchangeClientOptions.CaCertificateFile; in development certs-dev/ca.crt)."
                : $"The gateway's TLS certificate at {address} does not chain to the CA in '{caFile}'{status}: give the CA that issued it " +
                  "(in development certs-dev/ca.crt).";
            return new GatewayConnectionException(ConnectionFailure.UntrustedCertificate, address, message, ex)
            {
                CertificateNames = failure?.Names ?? [],
                ChainStatus = failure?.ChainStatus ?? "",
                CaCertificateFile = caFile,
            };
        }

        return Find<SocketException>(ex)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => new GatewayConnectionException(ConnectionFailure.Refused, address,
                $"Nothing accepts connections at {address} (connection refused): is the gateway running at that address?", ex),
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => new GatewayConnectionException(ConnectionFailure.HostNotFound,
                address, $"The host name '{uri.Host}' does not resolve: check the gateway address {address}.", ex),
            _ => null,
        };
    }

    private static T? Find<T>(Exception ex) where T : Exception
    {
        for (Exception? current = ex; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>The last certificate a client refused and why, for <see cref="ConnectionErrorHandler"/> to explain.</summary>
internal sealed class TlsDiagnostics
{
    private volatile TlsFailure? _last;

    public TlsFailure? Last => _last;

    public void Record(X509Certificate? certificate, SslPolicyErrors errors, bool untrusted, string chainStatus) =>
        _last = new TlsFailure(Names(certificate), (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0, untrusted, chainStatus);

    /// <summary>The DNS and IP subject alternative names of <paramref name="certificate"/>, else its CN.</summary>
    private static IReadOnlyList<string> Names(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return [];
        }

        using var cert = new X509Certificate2(certificate);
        var names = new List<string>();
        foreach (var extension in cert.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.AddRange(extension.EnumerateDnsNames());
            names.AddRange(extension.EnumerateIPAddresses().Select(ip => ip.ToString()));
        }

        return names.Count > 0 ? names : [cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false)];
    }
}

internal sealed record TlsFailure(IReadOnlyList<string> Names, bool NameMismatch, bool Untrusted, string ChainStatus);
