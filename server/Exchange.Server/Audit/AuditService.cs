namespace Exchange.Server.Audit;

/// <summary>
/// exchange.v1.AuditService. The contract is complete; the RPCs arrive with the verifiable
/// audit log (issue 3) and until then the generated base answers UNIMPLEMENTED.
/// </summary>
internal sealed class AuditService : V1.AuditService.AuditServiceBase;
