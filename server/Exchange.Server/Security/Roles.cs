namespace Exchange.Server.Security;

/// <summary>
/// The values of the <c>roles</c> token claim. Each feature's policy (DatasetPolicy, AccessPolicy,
/// ParticipantPolicy) says what a role allows on its objects.
/// </summary>
internal static class Roles
{
    /// <summary>Lists datasets and uploads their revisions; decides access requests to them.</summary>
    public const string Provider = "provider";

    /// <summary>Requests access and downloads under its grants.</summary>
    public const string Consumer = "consumer";

    /// <summary>Reads the whole exchange and its log; changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Reads everything, delists datasets, revokes grants and suspends participants.</summary>
    public const string Operator = "operator";

    /// <summary>Scrapes <c>/metrics</c> and nothing else: not a participant role, so no exchange.v1 call is open to it.</summary>
    public const string Metrics = "metrics";

    /// <summary>The roles of a participant: one of them is needed for every exchange.v1 call.</summary>
    public static readonly string[] Participant = [Provider, Consumer, Auditor, Operator];
}
