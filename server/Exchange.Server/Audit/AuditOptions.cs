namespace Exchange.Server.Audit;

internal sealed class AuditOptions
{
    /// <summary>PEM PKCS#8 Ed25519 key that signs checkpoints.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The checkpoint origin line, which also names the signing key; no spaces or '+'.</summary>
    public string Origin { get; set; } = "exchange.local/audit";

    /// <summary>How often, at most, a new checkpoint is signed while the log grows.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);
}
