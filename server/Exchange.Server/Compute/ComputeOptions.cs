namespace Exchange.Server.Compute;

/// <summary>The <c>Exchange:Compute</c> section.</summary>
internal sealed class ComputeOptions
{
    /// <summary>
    /// How many decrypted tables the engine keeps in memory between queries (the least recently
    /// used goes first). Each is the columns one rule names of one revision; plaintext never leaves memory.
    /// </summary>
    public int CachedTables { get; set; } = 2;

    /// <summary>
    /// The engine's memory limit per table in bytes (1 GiB); 0 leaves DuckDB's default, 80% of the
    /// machine for each cached table, which a few tables at once would overrun. Beyond it a query
    /// fails rather than spill to disk.
    /// </summary>
    public long MemoryLimitBytes { get; set; } = 1L << 30;
}
