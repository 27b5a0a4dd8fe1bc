using Exchange.Server.Access.Model;
using Exchange.Server.Security;

namespace Exchange.Server.Access;

/// <summary>Who may see and act on access requests and grants (the roles: Security/Roles.cs).</summary>
internal static class AccessPolicy
{
    /// <summary>Requesting access takes the consumer role.</summary>
    public static bool CanRequest(Caller caller) => caller.IsConsumer;

    /// <summary>A request is its consumer's and its dataset provider's business, and auditors' and operators'.</summary>
    public static bool CanSee(Caller caller, AccessRequest request) => IsParty(caller, request.Consumer, request.Provider);

    /// <summary>A grant is seen by the same parties as the request it answers.</summary>
    public static bool CanSee(Caller caller, Grant grant) => IsParty(caller, grant.Consumer, grant.Provider);

    /// <summary>Only the dataset's provider approves or rejects.</summary>
    public static bool CanDecide(Caller caller, AccessRequest request) =>
        caller.IsProvider && request.Provider == caller.Participant;

    /// <summary>Only the consumer who asked withdraws, and only while it holds the consumer role.</summary>
    public static bool CanWithdraw(Caller caller, AccessRequest request) => caller.IsConsumer && request.Consumer == caller.Participant;

    /// <summary>The provider who granted, or an operator, revokes.</summary>
    public static bool CanRevoke(Caller caller, Grant grant) =>
        (caller.IsProvider && grant.Provider == caller.Participant) || caller.IsOperator;

    /// <summary>
    /// Only the consumer, who pays for it, stops its subscription renewing, and only while it holds the
    /// consumer role (the provider or an operator revokes instead; its auditor token changes nothing).
    /// </summary>
    public static bool CanCancelRenewal(Caller caller, Grant grant) => caller.IsConsumer && grant.Consumer == caller.Participant;

    private static bool IsParty(Caller caller, string consumer, string provider) =>
        caller.ReadsEverything || consumer == caller.Participant || provider == caller.Participant;
}
