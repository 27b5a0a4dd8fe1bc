using Exchange.Server.Security;
using Exchange.V1;

namespace Exchange.Server.Access;

/// <summary>Who may see and act on access requests and grants (DESIGN.md, Participants and roles).</summary>
internal static class AccessPolicy
{
    /// <summary>A request is its consumer's and its dataset provider's business, and auditors' and operators'.</summary>
    public static bool CanSee(Caller caller, AccessRequest request) =>
        caller.ReadsEverything || request.Consumer == caller.Participant || request.Provider == caller.Participant;

    /// <summary>A grant is seen by the same parties as the request it answers.</summary>
    public static bool CanSee(Caller caller, Grant grant) =>
        caller.ReadsEverything || grant.Consumer == caller.Participant || grant.Provider == caller.Participant;

    /// <summary>A transfer is seen by the same parties as the grant it is made under.</summary>
    public static bool CanSee(Caller caller, Transfer transfer) =>
        caller.ReadsEverything || transfer.Consumer == caller.Participant || transfer.Provider == caller.Participant;

    /// <summary>Only the dataset's provider approves or rejects.</summary>
    public static bool CanDecide(Caller caller, AccessRequest request) =>
        caller.IsProvider && request.Provider == caller.Participant;

    /// <summary>Only the consumer who asked withdraws, and only while it holds the consumer role.</summary>
    public static bool CanWithdraw(Caller caller, AccessRequest request) => caller.IsConsumer && request.Consumer == caller.Participant;

    /// <summary>The provider who granted, or an operator, revokes.</summary>
    public static bool CanRevoke(Caller caller, Grant grant) =>
        (caller.IsProvider && grant.Provider == caller.Participant) || caller.IsOperator;
}
