namespace Exchange.Server.Limits;

/// <summary>Exchange:Limits: how much one message, one participant and one connection may take.</summary>
internal sealed class LimitOptions
{
    /// <summary>The largest message the gateway accepts (an upload chunk, a request); larger is RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest message the gateway sends; a download chunk must fit (Exchange:Transfers:ChunkSize).</summary>
    public int MaxSendMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Calls a participant may start per second, sustained; 0 turns the limit off.</summary>
    public int CallsPerSecond { get; set; } = 200;

    /// <summary>Calls a participant may start at once after being quiet (the token bucket's size).</summary>
    public int CallBurst { get; set; } = 400;

    /// <summary>Streaming calls (uploads, downloads, watches) one participant may have open at once; 0 turns the limit off.</summary>
    public int StreamsPerParticipant { get; set; } = 200;

    /// <summary>How long one WatchAuditEvents stream may stay open; then it ends (OK) and the watcher continues with a new one from its next index.</summary>
    public TimeSpan MaxWatchDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Concurrent HTTP/2 streams (calls) per connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>A connection quiet for this long gets a ping, so a peer that vanished mid-transfer is noticed.</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A ping unanswered for this long closes the connection.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
