using Exchange.Client.Audit;

using Exchange.Transparency;

namespace Exchange.Client;

/// <summary>How <see cref="ExchangeClient.VerifyAuditLogAsync"/> verifies the audit log.</summary>
public sealed record AuditLogVerifyOptions
{
    /// <summary>The verifier key to require; null for the client's <see cref="ExchangeClientOptions.AuditLogKey"/>, else the stored or published one.</summary>
    public NoteVerifierKey? AuditLogKey { get; init; }

    /// <summary>Where trusted checkpoints are kept; null for the client's <see cref="ExchangeClientOptions.TrustedCheckpoints"/> (when that is null too, none is kept).</summary>
    public TrustedCheckpointStore? TrustedCheckpoints { get; init; }

    /// <summary>Receives the number of events checked so far.</summary>
    public IProgress<long>? Progress { get; init; }
}
