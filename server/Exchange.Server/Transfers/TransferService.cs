namespace Exchange.Server.Transfers;

/// <summary>
/// exchange.v1.TransferService. The contract is complete; the RPCs arrive with audited
/// transfers (issue 5) and until then the generated base answers UNIMPLEMENTED.
/// </summary>
internal sealed class TransferService : V1.TransferService.TransferServiceBase;
