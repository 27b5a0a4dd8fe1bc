namespace Exchange.Server.Audit;

internal sealed class AuditOptions
{
    /// <summary>PEM PKCS#8 Ed25519 key that signs checkpoints.</summary>
    public string? SigningKeyFile { get; set; }
}
