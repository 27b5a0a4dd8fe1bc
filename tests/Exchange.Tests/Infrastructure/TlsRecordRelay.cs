using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Exchange.Tests.Infrastructure;

/// <summary>
/// A TCP relay in front of a TLS server that passes every byte through unchanged and reads, from
/// the server's side of each connection, the plaintext header of every TLS record (RFC 8446,
/// section 5.1): what a person with a packet capture sees of the server's records.
/// </summary>
internal sealed class TlsRecordRelay : IAsyncDisposable
{
    private const byte ApplicationData = 23;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<int> _lengths = [];
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;

    public TlsRecordRelay(int serverPort)
    {
        _serverPort = serverPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public Uri Address => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>
    /// The length on the wire (plaintext, content type and tag) of each record of outer type
    /// application data the server sent so far; in TLS 1.3 that includes the few, small, encrypted
    /// handshake records.
    /// </summary>
    public IReadOnlyList<int> ServerRecordLengths
    {
        get
        {
            lock (_lengths)
            {
                return [.. _lengths];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] relays;
        lock (_relays)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll([_accepting, .. relays]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_relays)
            {
                _relays.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using (client)
        using (var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            // Each direction ends on its own, passing its end on, as TCP's half-close does.
            await Task.WhenAll(CopyAsync(client, server, readRecords: false), CopyAsync(server, client, readRecords: true));
        }
    }

    private async Task CopyAsync(Socket from, Socket to, bool readRecords)
    {
        var buffer = new byte[64 * 1024];
        var header = new byte[5];
        var headerFilled = 0;
        var bodyLeft = 0;
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                if (readRecords)
                {
                    for (var at = 0; at < read;)
                    {
                        if (bodyLeft > 0)
                        {
                            var skip = Math.Min(bodyLeft, read - at);
                            (at, bodyLeft) = (at + skip, bodyLeft - skip);
                            continue;
                        }

                        header[headerFilled++] = buffer[at++];
                        if (headerFilled == header.Length)
                        {
                            bodyLeft = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3));
                            headerFilled = 0;
                            if (header[0] == ApplicationData)
                            {
                                lock (_lengths)
                                {
                                    _lengths.Add(bodyLeft);
                                }
                            }
                        }
                    }
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            try
            {
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
