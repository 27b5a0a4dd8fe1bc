using Exchange.Transparency;

namespace Exchange.Client.Audit;

/// <summary>The outcome of <see cref="AuditLogVerifier.VerifyAsync"/>.</summary>
public sealed record AuditVerification
{
    /// <summary>True when every check passed.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>What was found, in one sentence: the summary on success, the first problem on failure.</summary>
    public required string Message { get; init; }

    /// <summary>The check that failed, or <see cref="VerificationCheck.None"/>.</summary>
    public VerificationCheck FailedCheck { get; init; }

    /// <summary>The first log index that does not match the signed tree, when one could be named.</summary>
    public long? FirstBadIndex { get; init; }

    /// <summary>The verified checkpoint (null when the checkpoint itself could not be verified).</summary>
    public CheckpointNote? Checkpoint { get; init; }

    /// <summary>The key the checkpoint was checked against.</summary>
    public NoteVerifierKey? Key { get; init; }

    /// <summary>Events checked against the checkpoint.</summary>
    public long EventsVerified { get; init; }

    /// <summary>Events already in the log but newer than the checkpoint (checked at the next run).</summary>
    public long EventsAfterCheckpoint { get; init; }

    /// <summary>The size of the previously trusted checkpoint that this one was proven consistent with.</summary>
    public long? PreviousTrustedSize { get; init; }

    /// <summary>
    /// True when the checkpoint is not consistent with the trusted checkpoint of its log (a rollback
    /// or a fork); <see cref="TrustedBefore"/> is that log.
    /// </summary>
    public bool Inconsistent { get; init; }

    /// <summary>The trusted log the checkpoint was checked against; null for a log never trusted before.</summary>
    public TrustedLog? TrustedBefore { get; init; }

    /// <summary>True when this log (origin, key and log id) was not trusted before: it is now, from this checkpoint on.</summary>
    public bool NewLog { get; init; }

    /// <summary>For a <see cref="NewLog"/>: the other logs of the same origin that are trusted (e.g. an earlier log behind the same address).</summary>
    public IReadOnlyList<TrustedLog> OtherLogsOfOrigin { get; init; } = [];

    /// <summary>Throws a <see cref="VerificationException"/> with <see cref="Message"/> unless every check passed.</summary>
    public void ThrowIfFailed()
    {
        if (!Succeeded)
        {
            throw new VerificationException(this, Message);
        }
    }
}
