using Exchange.Server.Paging;

namespace Exchange.Server.Storage;

/// <summary>Creates or migrates the schema and loads shared secrets before the server takes calls.</summary>
internal sealed partial class StorageInitializer(Database database, PageTokens pageTokens, ILogger<StorageInitializer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(database.Path)!);
        using var connection = database.Open();
        var version = Migrations.Apply(connection);
        pageTokens.SetKey(ServerSecrets.GetOrCreate(connection, "page-token-key", 32));
        database.StartWriter();
        LogReady(database.Path, version);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Database {Path} ready at schema version {Version}")]
    private partial void LogReady(string path, int version);
}
