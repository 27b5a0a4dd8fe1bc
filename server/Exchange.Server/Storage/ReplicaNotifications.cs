using System.Globalization;
using Exchange.Server.Transfers;
using Npgsql;

namespace Exchange.Server.Storage;

/// <summary>
/// Listens, on a connection of its own, for what other replicas sharing the PostgreSQL database
/// announce: a revoked grant stops this replica's downloads under it at once, a suspension refuses
/// the participant's calls here too (a reinstatement lifts that), and a grown log
/// lets this replica's readers and watchers see the new events. Reconnects if the connection drops.
/// </summary>
internal sealed partial class ReplicaNotifications(DatabaseEngine engine, Database database, GrantSignals signals,
    Participants.Suspensions suspensions, TimeProvider time,
    ILogger<ReplicaNotifications> logger) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

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
                await using (var listen = new NpgsqlCommand($"LISTEN {GrantSignals.Channel}; LISTEN {Database.LogChannel}; LISTEN {Participants.Suspensions.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever was announced while nobody listened (before the first LISTEN, or while
                // reconnecting) is caught up with once, here: the log's size, revocations of
                // grants whose downloads are running on this replica, and participants' states.
                await using (var size = new NpgsqlCommand(Database.StoredLogSizeQuery, connection))
                {
                    database.Announced((long)(await size.ExecuteScalarAsync(stoppingToken))!);
                }

                await CatchUpRevocationsAsync(connection, stoppingToken);
                suspensions.Load(Participants.ParticipantStore.LoadStates(connection));

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

    private async Task CatchUpRevocationsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var watched = signals.Watched();
        if (watched.Count == 0)
        {
            return;
        }

        await using var revoked = new NpgsqlCommand("SELECT id FROM grants WHERE revoke_time IS NOT NULL AND id = ANY(@ids)", connection);
        revoked.Parameters.AddWithValue("ids", watched.Select(name => Access.AccessNames.ParseGrant(name)).ToArray());
        await using var reader = await revoked.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            signals.Revoked(Access.AccessNames.Grant(reader.GetString(0)));
        }
    }

    private void Handle(string channel, string payload)
    {
        if (channel == GrantSignals.Channel)
        {
            signals.Revoked(payload);
        }
        else if (channel == Participants.Suspensions.Channel)
        {
            suspensions.TryApply(payload);
        }
        else if (channel == Database.LogChannel && long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            database.Announced(size);
        }
    }

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Listening for other replicas' changes failed; retrying in {Retry}")]
    private partial void LogListenFailed(Exception exception, TimeSpan retry);
}
