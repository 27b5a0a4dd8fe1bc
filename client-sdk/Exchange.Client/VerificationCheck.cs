namespace Exchange.Client;

/// <summary>
/// The check that failed when verifying a transfer receipt (<see cref="Transfers.ReceiptVerification"/>, checks in the order
/// they are made), the audit log (<see cref="Audit.AuditVerification"/>) or a rights certificate
/// (<see cref="Rights.RightCertificateVerification"/>): the reason of a <see cref="VerificationException"/>.
/// </summary>
public enum VerificationCheck
{
    /// <summary>None: every check passed.</summary>
    None = 0,

    /// <summary>The receipt lacks its event or its checkpoint; or the gateway returned no checkpoint.</summary>
    Incomplete,

    /// <summary>An event's leaf is not an audit record, or the event shows other fields than its leaf holds.</summary>
    Leaf,

    /// <summary>The logged event is not a successful <c>transfer.complete</c>.</summary>
    Event,

    /// <summary>The logged event is about another transfer than the one downloaded.</summary>
    Transfer,

    /// <summary>The logged event names another grant than the one downloaded under.</summary>
    Grant,

    /// <summary>The logged event names another revision than the one downloaded.</summary>
    Revision,

    /// <summary>The logged event names another byte count than the client received.</summary>
    Size,

    /// <summary>The logged event names another SHA-256 than the client computed.</summary>
    Sha256,

    /// <summary>No verifier key is trusted, the trusted checkpoint cannot be used, or it was signed by another key than the pinned one.</summary>
    Trust,

    /// <summary>The checkpoint cannot be read or is not signed by the trusted key (or its fields differ from what was signed).</summary>
    Signature,

    /// <summary>The checkpoint's origin is not the trusted key's name: it is another log's.</summary>
    Origin,

    /// <summary>The inclusion proof does not lead from the event to the checkpoint's root.</summary>
    Inclusion,

    /// <summary>The checkpoint is not consistent with the last trusted checkpoint: the log was forked or rolled back.</summary>
    Consistency,

    /// <summary>The audit log lists events with an index missing, repeated or out of order, or fewer than its checkpoint covers.</summary>
    Sequence,

    /// <summary>The audit log's events do not hash to the checkpoint's signed root: one was altered, replaced or moved.</summary>
    Root,

    /// <summary>A rights certificate's record cannot be read, or is not the record its right's last event attests (its SHA-256 or version).</summary>
    Record,
}
