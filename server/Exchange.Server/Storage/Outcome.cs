namespace Exchange.Server.Storage;

/// <summary>How an audited step ended; the numbers are those of exchange.v1.AuditOutcome, which the leaf encodes.</summary>
internal enum Outcome
{
    Success = 1,
    Denied = 2,
    Failed = 3,
}
