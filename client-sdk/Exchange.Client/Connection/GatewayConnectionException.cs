namespace Exchange.Client.Connection;

/// <summary>Why a connection to the gateway could not be made.</summary>
public enum ConnectionFailure
{
    /// <summary>Something else went wrong while connecting (see the inner exception).</summary>
    Other,

    /// <summary>Nothing accepts connections at the address: the gateway is not running there, or the port is wrong.</summary>
    Refused,

    /// <summary>The host name does not resolve.</summary>
    HostNotFound,

    /// <summary>The gateway's certificate does not chain to a trusted CA (PartialChain, UntrustedRoot…).</summary>
    UntrustedCertificate,

    /// <summary>The gateway's certificate is for other names than the host connected to.</summary>
    NameMismatch,
}

/// <summary>
/// The gateway could not be reached: a refused connection, an unknown host, or a TLS certificate
/// this client does not trust or that is for another name. It is an <see cref="IOException"/>, so
/// the gRPC call fails with UNAVAILABLE (the status's DebugException holds it); its message says
/// what to do.
/// </summary>
public sealed class GatewayConnectionException : IOException
{
    /// <summary>Creates the exception.</summary>
    public GatewayConnectionException(ConnectionFailure failure, Uri address, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        Address = address;
    }

    /// <summary>What failed.</summary>
    public ConnectionFailure Failure { get; }

    /// <summary>The address connected to.</summary>
    public Uri Address { get; }

    /// <summary>For a certificate failure: the names (DNS and IP subject alternative names, else the CN) the certificate is for.</summary>
    public IReadOnlyList<string> CertificateNames { get; init; } = [];

    /// <summary>For a certificate failure: the chain problems (e.g. PartialChain, UntrustedRoot), if any.</summary>
    public string ChainStatus { get; init; } = "";

    /// <summary>For a certificate failure: the CA file the client was told to trust, if any.</summary>
    public string? CaCertificateFile { get; init; }

    /// <summary>
    /// Why <paramref name="exception"/> (typically an UNAVAILABLE RpcException) happened, when it is
    /// a connection to <paramref name="address"/> that could not be made: the
    /// <see cref="GatewayConnectionException"/> behind it, or one made from the socket error gRPC
    /// met while connecting (it connects sockets itself, so a refusal reaches no HTTP handler). Else null.
    /// </summary>
    public static GatewayConnectionException? Describe(Exception exception, Uri address)
    {
        if (Find(exception) is { } found)
        {
            return found;
        }

        var socket = FindSocketError(exception);
        return socket?.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.ConnectionRefused => new GatewayConnectionException(ConnectionFailure.Refused, address,
                $"Nothing accepts connections at {address} (connection refused): is the gateway running at that address?", socket),
            System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData or System.Net.Sockets.SocketError.TryAgain =>
                new GatewayConnectionException(ConnectionFailure.HostNotFound, address,
                    $"The host name '{address.Host}' does not resolve: check the gateway address {address}.", socket),
            _ => null,
        };
    }

    private static System.Net.Sockets.SocketException? FindSocketError(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is System.Net.Sockets.SocketException socket)
            {
                return socket;
            }

            if (current is Grpc.Core.RpcException rpc && rpc.Status.DebugException is { } debug && FindSocketError(debug) is { } inDebug)
            {
                return inDebug;
            }
        }

        return null;
    }

    /// <summary>
    /// The <see cref="GatewayConnectionException"/> behind <paramref name="exception"/> (an
    /// RpcException's status DebugException, or anything wrapping it), or null.
    /// </summary>
    public static GatewayConnectionException? Find(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is GatewayConnectionException found)
            {
                return found;
            }

            if (current is Grpc.Core.RpcException rpc && rpc.Status.DebugException is { } debug && Find(debug) is { } inDebug)
            {
                return inDebug;
            }
        }

        return null;
    }
}
