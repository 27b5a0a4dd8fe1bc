namespace Exchange.Server.Storage;

/// <summary>
/// Creates or migrates the schema, loads shared secrets, and lets each feature's
/// <see cref="IReplicaListener"/> load what it keeps in memory (e.g. suspensions). Created once, as the
/// <see cref="Database"/> (which starts its writer on the current schema) and <see cref="Paging.PageTokens"/>
/// (which need the page-token key) are: when the host resolves its hosted services, after the
/// configuration is validated and before any of them starts or the server takes calls.
/// </summary>
internal sealed partial class StorageInitializer
{
    public StorageInitializer(DatabaseEngine engine, IEnumerable<IReplicaListener> listeners, TimeProvider time,
        ILogger<StorageInitializer> logger)
    {
        engine.Prepare();
        using var connection = engine.OpenWriter();
        var version = Migrations.Apply(connection, engine, time);
        PageTokenKey = ServerSecrets.GetOrCreate(connection, engine, "page-token-key", 32);
        MaskKey = ServerSecrets.GetOrCreate(connection, engine, "view-mask-key", 32);
        // Not a secret, but generated the same way: once per log, shared by every replica of it.
        LogId = Convert.ToHexStringLower(ServerSecrets.GetOrCreate(connection, engine, "audit-log-id", 16));
        foreach (var listener in listeners)
        {
            // The host creates services synchronously; this runs once, before any call, with no synchronization context to deadlock on.
            listener.CatchUpAsync(connection, CancellationToken.None).GetAwaiter().GetResult();
        }

        LogReady(logger, engine.Location, version, LogId);
    }

    /// <summary>
    /// The id of the audit log, signed into its checkpoints: generated with the database, so a new
    /// database is a new log even under the same origin and key.
    /// </summary>
    public string LogId { get; }

    /// <summary>The key that authenticates page tokens, shared by every replica of the exchange.</summary>
    public byte[] PageTokenKey { get; }

    /// <summary>The secret the keys of views' HASH masks are derived from, one per grant (Tables.MaskKeys).</summary>
    public byte[] MaskKey { get; }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Database {Location} ready at schema version {Version}; audit log id {LogId}")]
    private static partial void LogReady(ILogger logger, string location, int version, string logId);
}
