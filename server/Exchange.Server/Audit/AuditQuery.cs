namespace Exchange.Server.Audit;

/// <summary>The filters of a ListAuditEvents or WatchAuditEvents call, already validated.</summary>
internal sealed record AuditQuery(string? Dataset, string? Participant, string? Action, long? StartMicros, long? EndMicros)
{
    public string Scope(string caller) =>
        string.Join('\n', "ListAuditEvents", caller, Dataset ?? "", Participant ?? "", Action ?? "", StartMicros ?? -1, EndMicros ?? -1);
}
