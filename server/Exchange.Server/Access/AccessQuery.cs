namespace Exchange.Server.Access;

/// <summary>The filters of ListAccessRequests or ListGrants, already validated; State is the enum's number (0 = any).</summary>
internal sealed record AccessQuery(string Method, string? DatasetId, string? Consumer, int State)
{
    public string Scope(string caller) => string.Join('\n', Method, caller, DatasetId ?? "", Consumer ?? "", State);
}
