namespace Exchange.Server.Transfers.Model;

/// <summary>A transfer's state; the numbers are those stored and of exchange.v1.TransferState.</summary>
internal enum TransferState
{
    Started = 1,
    Completed = 2,
    Failed = 3,
    Denied = 4,
}
