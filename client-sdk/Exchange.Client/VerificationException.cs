using Exchange.Client.Audit;
using Exchange.Client.Transfers;

namespace Exchange.Client;

/// <summary>
/// Something this client was to verify did not verify: a transfer receipt (a download's file is then not kept) or
/// the audit log. <see cref="FailedCheck"/> says which check failed; <see cref="Receipt"/> or <see cref="AuditLog"/>
/// holds the whole outcome.
/// </summary>
public sealed class VerificationException : Exception
{
    /// <summary>Creates the exception for a failed receipt <paramref name="verification"/>.</summary>
    public VerificationException(ReceiptVerification verification, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(verification);
        Receipt = verification;
        FailedCheck = verification.FailedCheck;
    }

    /// <summary>Creates the exception for a failed audit log <paramref name="verification"/>.</summary>
    public VerificationException(AuditVerification verification, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(verification);
        AuditLog = verification;
        FailedCheck = verification.FailedCheck;
    }

    /// <summary>The check that failed: the reason, as data.</summary>
    public VerificationCheck FailedCheck { get; }

    /// <summary>For a transfer receipt: the outcome of its verification; else null.</summary>
    public ReceiptVerification? Receipt { get; }

    /// <summary>For the audit log: the outcome of its verification; else null.</summary>
    public AuditVerification? AuditLog { get; }

    /// <summary>
    /// A query's answer the gateway gave without a receipt, when it could not be proven yet
    /// (<see cref="VerificationCheck.Incomplete"/>): unverified, and charged. <see cref="ExchangeClient.ProveQueryAsync"/>
    /// proves it later.
    /// </summary>
    public Exchange.V1.RunQueryResponse? UnprovenAnswer { get; init; }
}
