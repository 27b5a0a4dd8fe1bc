using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Client.Rights;

/// <summary>The outcome of checking a rights certificate offline: the right it proves, or which check failed and why.</summary>
public sealed record RightCertificateVerification
{
    /// <summary>True when every check passed.</summary>
    public bool Succeeded => FailedCheck == VerificationCheck.None;

    /// <summary>The check that failed, or <see cref="VerificationCheck.None"/>.</summary>
    public VerificationCheck FailedCheck { get; init; }

    /// <summary>What was found, in one sentence: the summary on success, the reason on failure.</summary>
    public required string Message { get; init; }

    /// <summary>The right as its last event attests it (null unless verified).</summary>
    public Right? Right { get; init; }

    /// <summary>The right's state at the time of verification: an active right past its end is EXPIRED.</summary>
    public RightState StateNow { get; init; }

    /// <summary>The checkpoint every event was proven to be in (null when that was not reached).</summary>
    public CheckpointNote? Checkpoint { get; init; }

    internal static RightCertificateVerification Failed(VerificationCheck check, string message) => new() { FailedCheck = check, Message = message };
}
