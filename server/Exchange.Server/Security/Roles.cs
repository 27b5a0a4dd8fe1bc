namespace Exchange.Server.Security;

/// <summary>The values of the <c>roles</c> token claim (DESIGN.md, Participants and roles).</summary>
internal static class Roles
{
    public const string Provider = "provider";
    public const string Consumer = "consumer";
    public const string Auditor = "auditor";
    public const string Operator = "operator";
}
