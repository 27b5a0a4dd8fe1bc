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

    /// <summary>
    /// How many queries one consumer may have running at once on a replica; more is RESOURCE_EXHAUSTED
    /// (0: no limit). Four lets a dashboard ask a few things in parallel, while on a small machine no
    /// consumer can hold every core and every loaded table and keep everyone else waiting.
    /// </summary>
    public int QueriesPerConsumer { get; set; } = 4;

    /// <summary>
    /// How many tables a replica decrypts and loads into the engine at once (at least 1); others wait
    /// their turn. A load takes a core and up to <see cref="MemoryLimitBytes"/> while it runs.
    /// </summary>
    public int ConcurrentLoads { get; set; } = 2;
}
