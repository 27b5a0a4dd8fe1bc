using System.Globalization;
using Npgsql;

namespace Exchange.Server.Storage;

/// <summary>
/// Listens, on a connection of its own, for what other replicas sharing the PostgreSQL database
/// announce: a grown log lets this replica's readers and watchers see the new events, and each
/// feature's <see cref="IReplicaListener"/> hears its own channel (a revoked grant stops this
/// replica's downloads under it at once; a suspension refuses the participant's calls here too).
/// Reconnects if the connection drops, and then catches up with what it missed. What this replica
/// announces its listeners hear as its unit commits, with either engine.
/// </summary>
internal sealed partial class ReplicaNotifications(DatabaseEngine engine, Database database, IEnumerable<IReplicaListener> listeners,
    TimeProvider time, ILogger<ReplicaNotifications> logger) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, IReplicaListener> _listeners = listeners.ToDictionary(l => l.Channel, StringComparer.Ordinal);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        database.AnnouncedHere += HandleOwn;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        database.AnnouncedHere -= HandleOwn;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (engine is not PostgresEngine postgres)
        {
            // The embedded engine: no other replica shares it, so there is nothing to hear.
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await postgres.OpenListenerAsync(stoppingToken);
                connection.Notification += (_, e) => Handle(e.Channel, e.Payload);
                var channels = _listeners.Keys.Append(Database.LogChannel).Select(channel => $"LISTEN {channel};");
                await using (var listen = new NpgsqlCommand(string.Join(' ', channels), connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever was announced while nobody listened (before the first LISTEN, or while
                // reconnecting) is caught up with once, here: the log's size, then each feature's state.
                await using (var size = new NpgsqlCommand(Database.StoredLogSizeQuery, connection))
                {
                    database.Announced((long)(await size.ExecuteScalarAsync(stoppingToken))!);
                }

                foreach (var listener in _listeners.Values)
                {
                    await listener.CatchUpAsync(connection, stoppingToken);
                }

                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                LogListenFailed(ex, Retry);
                await Task.Delay(Retry, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    // Off the writer's thread: stopping a stream runs its cancellation callbacks, and they must not delay the next commit.
    private void HandleOwn(string channel, string payload) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Self.Handle(state.Channel, state.Payload), (Self: this, Channel: channel, Payload: payload),
            preferLocal: false);

    private void Handle(string channel, string payload)
    {
        if (_listeners.TryGetValue(channel, out var listener))
        {
            listener.Heard(payload);
        }
        else if (channel == Database.LogChannel && long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            database.Announced(size);
        }
    }

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Listening for other replicas' changes failed; retrying in {Retry}")]
    private partial void LogListenFailed(Exception exception, TimeSpan retry);
}
