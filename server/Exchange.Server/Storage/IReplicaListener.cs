using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>
/// A feature's ear for what other replicas sharing the database announce on its channel (e.g. a
/// revoked grant, a suspended participant). <see cref="ReplicaNotifications"/> listens for all of
/// them; the feature knows what the announcements mean.
/// </summary>
internal interface IReplicaListener
{
    /// <summary>The notification channel, announced on with <see cref="WriteUnit.Announce"/>.</summary>
    string Channel { get; }

    /// <summary>Takes one announcement.</summary>
    void Heard(string payload);

    /// <summary>
    /// Catches up, from the database, with whatever may have been announced while nobody listened:
    /// at start, and each time the listening connection is made again.
    /// </summary>
    Task CatchUpAsync(DbConnection connection, CancellationToken cancellationToken);
}
