namespace Exchange.Server.Security;

/// <summary>The values of the <c>roles</c> token claim (DESIGN.md, Participants and roles).</summary>
internal static class Roles
{
    public const string Provider = "provider";
    public const string Consumer = "consumer";
    public const string Auditor = "auditor";
    public const string Operator = "operator";

    /// <summary>Scrapes <c>/metrics</c> and nothing else: not a participant role, so no exchange.v1 call is open to it.</summary>
    public const string Metrics = "metrics";

    /// <summary>The roles of a participant: one of them is needed for every exchange.v1 call.</summary>
    public static readonly string[] Participant = [Provider, Consumer, Auditor, Operator];
}
