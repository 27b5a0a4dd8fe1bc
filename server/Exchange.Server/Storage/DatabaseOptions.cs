namespace Exchange.Server.Storage;

/// <summary>Exchange:Database: which engine holds the exchange's state and audit log.</summary>
internal sealed class DatabaseOptions
{
    /// <summary>"sqlite" (the embedded default, a file under Exchange:DataDirectory) or "postgres" (shared by any number of replicas).</summary>
    public string Kind { get; set; } = "sqlite";

    /// <summary>For "postgres": an Npgsql connection string, e.g. "Host=db;Database=exchange;Username=exchange;Password=…".</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Keep catalog answers in memory until the next write commits (<see cref="ReadCache{TKey, TValue}"/>; SQLite only).
    /// Off, every read queries the database: to measure the database itself, or to spend no memory on answers.
    /// </summary>
    public bool CacheReads { get; set; } = true;
}
