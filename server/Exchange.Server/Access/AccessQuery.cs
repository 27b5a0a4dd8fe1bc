using Exchange.Server.Catalog;

namespace Exchange.Server.Access;

/// <summary>The filters of ListAccessRequests or ListGrants, already validated; State is the enum's number (0 = any).</summary>
internal sealed record AccessQuery(string Method, DatasetId? Dataset, string? Consumer, int State)
{
    public string Scope(string caller) => string.Join('\n', Method, caller, Dataset?.Value ?? "", Consumer ?? "", State);
}
