namespace Exchange.Server.Compute.Model;

/// <summary>
/// An answered query as logged: its audit event and the budget after it (null without differential
/// privacy). Or, with <see cref="Refused"/>, a query whose answer was dropped, that refusal recorded.
/// </summary>
internal sealed record QueryRecord(long AuditIndex, long SpentMillis, Access.Model.QueryBudget? Budget, Refusal? Refused = null);
