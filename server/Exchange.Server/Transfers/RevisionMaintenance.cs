namespace Exchange.Server.Transfers;

/// <summary>
/// On start: removes what interrupted uploads left behind, and rewraps every data key that is not
/// wrapped by the primary key-encryption key (rotation), without touching revision bytes.
/// </summary>
internal sealed partial class RevisionMaintenance(Catalog.RevisionStore revisions, IBlobStore blobs, KeyRing keys, ILogger<RevisionMaintenance> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var removed = await blobs.RemoveLeftoversAsync(await revisions.ReferencedBlobsAsync(cancellationToken), cancellationToken);
        if (removed > 0)
        {
            LogLeftovers(removed);
        }

        var rewrapped = 0;
        foreach (var (id, wrapped, kekId) in await revisions.WrappedKeysAsync(keys.PrimaryId, cancellationToken))
        {
            var dataKey = keys.Unwrap(wrapped, kekId, id.Name);
            rewrapped += await revisions.RewrapAsync(id, keys.Wrap(dataKey, id.Name), keys.PrimaryId, kekId);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(dataKey);
        }

        if (rewrapped > 0)
        {
            LogRewrapped(rewrapped, keys.PrimaryId);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Removed {Count} files left by interrupted uploads")]
    private partial void LogLeftovers(int count);

    [LoggerMessage(EventId = 51, Level = LogLevel.Information, Message = "Rewrapped {Count} data keys with key-encryption key {KeyId}")]
    private partial void LogRewrapped(int count, string keyId);
}
