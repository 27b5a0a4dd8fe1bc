using System.Data.Common;
using Exchange.Server.Storage;

namespace Exchange.Server.Access;

/// <summary>
/// Lets a revocation reach the downloads running under the grant at once, on this replica when the
/// revocation commits and on every other replica sharing the database when it hears of it.
/// </summary>
internal sealed class Revocations : IReplicaListener
{
    /// <summary>The channel on which a shared database announces revoked grants (by name) to every replica.</summary>
    public const string ChannelName = "exchange_grant_revoked";

    // Downloads hold leases keyed by the grant's id.
    private readonly StopSignals _downloads = new();

    public string Channel => ChannelName;

    /// <summary>A token cancelled when <paramref name="grant"/> is revoked; dispose the lease when the download ends.</summary>
    public StopSignals.Lease Watch(GrantId grant) => _downloads.Watch(grant.Value);

    /// <summary>Stops every running download under <paramref name="grant"/>.</summary>
    public void Revoked(GrantId grant) => _downloads.Stop(grant.Value);

    /// <summary>An announcement names the revoked grant (<see cref="AccessStore"/> announces <c>grants/{id}</c>).</summary>
    public void Heard(string payload)
    {
        if (payload.StartsWith("grants/", StringComparison.Ordinal))
        {
            _downloads.Stop(payload["grants/".Length..]);
        }
    }

    /// <summary>Stops the downloads under grants revoked while this replica was not listening.</summary>
    public Task CatchUpAsync(DbConnection connection, CancellationToken cancellationToken) =>
        _downloads.StopStoredAsync(connection, "SELECT id FROM grants WHERE revoke_time IS NOT NULL AND id IN ({0})", cancellationToken);
}
