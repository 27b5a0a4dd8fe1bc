using Exchange.Server.Paging;

namespace Exchange.Server.Storage;

/// <summary>Creates or migrates the schema and loads shared secrets and suspensions before the server takes calls.</summary>
internal sealed partial class StorageInitializer(Database database, PageTokens pageTokens, Audit.CheckpointSigner signer, Participants.Suspensions suspensions,
    TimeProvider time, ILogger<StorageInitializer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var engine = database.Engine;
        engine.Prepare();
        using (var connection = engine.OpenWriter())
        {
            var version = Migrations.Apply(connection, engine, time);
            pageTokens.SetKey(ServerSecrets.GetOrCreate(connection, engine, "page-token-key", 32));
            // Not a secret, but generated the same way: once per log, shared by every replica of it.
            signer.UseLogId(Convert.ToHexStringLower(ServerSecrets.GetOrCreate(connection, engine, "audit-log-id", 16)));
            suspensions.Load(Participants.ParticipantStore.LoadStates(connection));
            LogReady(engine.Location, version, signer.LogId);
        }

        database.StartWriter();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Database {Location} ready at schema version {Version}; audit log id {LogId}")]
    private partial void LogReady(string location, int version, string logId);
}
