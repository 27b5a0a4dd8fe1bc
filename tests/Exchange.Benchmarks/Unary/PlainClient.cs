using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace Exchange.Benchmarks.Unary;

/// <summary>
/// What any client compiled from protos/ gets: a default <see cref="GrpcChannel"/> over a default
/// <see cref="SocketsHttpHandler"/>, told only to trust the dev CA, and a bearer token in each call's
/// metadata. Not the SDK's tuned channel: the benchmarks measure what a plain client sees.
/// </summary>
internal sealed class PlainClient : IDisposable
{
    private PlainClient(GrpcChannel channel, Metadata headers)
    {
        Channel = channel;
        Headers = headers;
    }

    public GrpcChannel Channel { get; }

    /// <summary>The call metadata: the token, when there is one.</summary>
    public Metadata Headers { get; }

    public static PlainClient Connect(int port, string certs, string? token)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(certs, "ca.crt")));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(ca, certificate, errors);
        var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = 16 * 1024 * 1024 });
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", $"Bearer {token}");
        }

        return new PlainClient(channel, headers);
    }

    public void Dispose() => Channel.Dispose();

    private static bool Trusted(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
