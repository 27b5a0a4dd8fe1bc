using Exchange.Transparency;

namespace Exchange.Client.Transfers;

/// <summary>The outcome of checking a transfer receipt: the checkpoint it was verified against, or which check failed and why.</summary>
public sealed record ReceiptVerification
{
    /// <summary>True when every check passed.</summary>
    public bool Succeeded => FailedCheck == VerificationCheck.None;

    /// <summary>The check that failed, or <see cref="VerificationCheck.None"/>.</summary>
    public VerificationCheck FailedCheck { get; init; }

    /// <summary>What was found, in one sentence: the summary on success, the reason on failure.</summary>
    public required string Message { get; init; }

    /// <summary>The checkpoint the event was proven to be in (null when that was not reached).</summary>
    public CheckpointNote? Checkpoint { get; init; }

    /// <summary>The verifier key the checkpoint was checked against.</summary>
    public NoteVerifierKey? Key { get; init; }

    /// <summary>True when the receipt's log was not trusted yet, no key is pinned, and <see cref="Key"/> is the gateway's own, trusted from now on.</summary>
    public bool KeyTrustedOnFirstUse { get; init; }

    /// <summary>True when the receipt's log (origin, key and log id) was not trusted before this receipt.</summary>
    public bool NewLog { get; init; }

    /// <summary>The size of the previously trusted checkpoint that <see cref="Checkpoint"/> was proven consistent with.</summary>
    public long? PreviousTrustedSize { get; init; }

    internal static ReceiptVerification Failed(VerificationCheck check, string message, NoteVerifierKey? key = null) =>
        new() { FailedCheck = check, Message = message, Key = key };

    /// <summary>Throws a <see cref="VerificationException"/> with <see cref="Message"/> unless every check passed.</summary>
    public void ThrowIfFailed()
    {
        if (!Succeeded)
        {
            throw new VerificationException(this, Message);
        }
    }
}
