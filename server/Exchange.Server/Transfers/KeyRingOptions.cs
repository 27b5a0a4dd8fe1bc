namespace Exchange.Server.Transfers;

/// <summary>The <c>Exchange:Encryption</c> section: key-encryption keys that wrap each revision's data key.</summary>
internal sealed class KeyRingOptions
{
    /// <summary>The key that wraps new data keys (and to which older ones are rewrapped on start).</summary>
    public string? PrimaryKeyId { get; set; }

    /// <summary>Key-encryption keys by id: files holding 32 random bytes, base64. Empty: one generated in the data directory.</summary>
    public Dictionary<string, string> KeyFiles { get; set; } = [];
}
