using System.Data.Common;
using Exchange.Server.Catalog;
using Exchange.Server.Storage;

namespace Exchange.Server.Lineage;

/// <summary>
/// Lets lineage stop a dataset's running downloads at once: when a revoked grant or a cancelled right
/// upstream means its derived data may no longer be downloaded (<see cref="LineageFlags"/>), on this
/// replica as the change commits and on every other replica sharing the database when it hears of it.
/// </summary>
internal sealed class LineageStops : IReplicaListener
{
    /// <summary>The channel on which a unit that stops a dataset's downloads announces it (by name).</summary>
    public const string ChannelName = "exchange_lineage_stopped";

    // Downloads hold leases keyed by the dataset's id.
    private readonly StopSignals _downloads = new();

    public string Channel => ChannelName;

    /// <summary>A token cancelled when lineage stops <paramref name="dataset"/>'s downloads; dispose the lease when the download ends.</summary>
    public StopSignals.Lease Watch(DatasetId dataset) => _downloads.Watch(dataset.Value);

    /// <summary>Stops every running download of <paramref name="dataset"/> on this replica.</summary>
    public void Stop(DatasetId dataset) => _downloads.Stop(dataset.Value);

    public void Heard(string payload)
    {
        if (payload.StartsWith("datasets/", StringComparison.Ordinal))
        {
            _downloads.Stop(payload["datasets/".Length..]);
        }
    }

    /// <summary>Whether lineage stops <paramref name="dataset"/>'s downloads now, as stored.</summary>
    public static async Task<bool> StoppedAsync(DbConnection connection, DatasetId dataset, CancellationToken cancellationToken)
    {
        await using var command = connection.Command("SELECT lineage_blocks FROM datasets WHERE id = @d").With("@d", dataset.Value);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken) ?? 0L) != 0;
    }

    /// <summary>Stops the downloads of datasets whose downloads lineage stopped while this replica was not listening.</summary>
    public Task CatchUpAsync(DbConnection connection, CancellationToken cancellationToken) =>
        _downloads.StopStoredAsync(connection, "SELECT id FROM datasets WHERE lineage_blocks <> 0 AND id IN ({0})", cancellationToken);
}
