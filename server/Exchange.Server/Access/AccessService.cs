namespace Exchange.Server.Access;

/// <summary>
/// exchange.v1.AccessService. The contract is complete; the RPCs arrive with the access
/// workflow (issue 4) and until then the generated base answers UNIMPLEMENTED.
/// </summary>
internal sealed class AccessService : V1.AccessService.AccessServiceBase;
