namespace Exchange.Server.Transfers;

/// <summary>The <c>Exchange:Transfers</c> section.</summary>
internal sealed class TransferOptions
{
    /// <summary>The largest revision accepted; a bigger upload answers RESOURCE_EXHAUSTED.</summary>
    public long MaxRevisionBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>How long an upload may wait for its next message before it is cut with DEADLINE_EXCEEDED.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a download may wait for its consumer to take the next chunk before it is stopped with
    /// DEADLINE_EXCEEDED (FAILED, to resume): a consumer that stops reading must not hold the stream,
    /// its buffers and its place under the participant's stream limit for good.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Bytes per download chunk message, and per encrypted segment of newly uploaded revisions.</summary>
    public int ChunkSize { get; set; } = 256 * 1024;

    /// <summary>
    /// How long a gateway sharing the database may go unheard (it says it is alive three times in
    /// this span) before the transfers it was streaming are failed, so they can resume elsewhere.
    /// </summary>
    public TimeSpan OrphanTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The most columns a table's header may name; a wider one is refused.</summary>
    public int MaxTableColumns { get; set; } = 1000;

    /// <summary>The longest row of a CSV table, in bytes; the row is what its reader must hold in memory.</summary>
    public int MaxTableRowBytes { get; set; } = 4 * 1024 * 1024;
}
