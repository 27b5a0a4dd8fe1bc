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

    private readonly StopSignals _downloads = new();

    public string Channel => ChannelName;

    /// <summary>A token cancelled when <paramref name="grant"/> is revoked; dispose the lease when the download ends.</summary>
    public StopSignals.Lease Watch(GrantId grant) => _downloads.Watch(grant.Name);

    /// <summary>Stops every running download under <paramref name="grant"/>.</summary>
    public void Revoked(GrantId grant) => _downloads.Stop(grant.Name);

    public void Heard(string payload) => _downloads.Stop(payload);

    /// <summary>Stops the downloads under grants revoked while this replica was not listening.</summary>
    public void CatchUp(DbConnection connection)
    {
        var watched = _downloads.Watched();
        if (watched.Count == 0)
        {
            return;
        }

        using var command = connection.Command(
            $"SELECT id FROM grants WHERE revoke_time IS NOT NULL AND id IN ({string.Join(", ", watched.Select((_, i) => $"@g{i}"))})");
        for (var i = 0; i < watched.Count; i++)
        {
            command.With($"@g{i}", GrantId.Parse(watched[i]).Value);
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            Revoked(new GrantId(reader.GetString(0)));
        }
    }
}
