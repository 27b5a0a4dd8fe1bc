namespace Exchange.Client.Transfers;

/// <summary>A download whose receipt did not verify; its file was not kept.</summary>
public sealed class ReceiptVerificationException : Exception
{
    /// <summary>Creates the exception for a failed <paramref name="verification"/>.</summary>
    public ReceiptVerificationException(ReceiptVerification verification, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(verification);
        Verification = verification;
    }

    /// <summary>Which check failed, and why.</summary>
    public ReceiptVerification Verification { get; }
}
