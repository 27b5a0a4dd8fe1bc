using Exchange.Server.Paging;

namespace Exchange.Server.Storage;

/// <summary>Creates or migrates the schema and loads shared secrets and suspensions before the server takes calls.</summary>
internal sealed partial class StorageInitializer(Database database, PageTokens pageTokens, Participants.Suspensions suspensions,
    ILogger<StorageInitializer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var engine = database.Engine;
        engine.Prepare();
        using (var connection = engine.OpenWriter())
        {
            var version = Migrations.Apply(connection, engine);
            pageTokens.SetKey(ServerSecrets.GetOrCreate(connection, engine, "page-token-key", 32));
            suspensions.Load(Participants.ParticipantStore.LoadStates(connection));
            LogReady(engine.Location, version);
        }

        database.StartWriter();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Database {Location} ready at schema version {Version}")]
    private partial void LogReady(string location, int version);
}
