using Exchange.Server.Security;

namespace Exchange.Server.Participants;

/// <summary>Who may see and change a participant's state (the roles: Security/Roles.cs).</summary>
internal static class ParticipantPolicy
{
    /// <summary>
    /// A participant's state is its own business and that of auditors and operators. Participant
    /// ids are no secret, so anyone else is PERMISSION_DENIED rather than NOT_FOUND.
    /// </summary>
    public static bool CanSee(Caller caller, string participant) => caller.ReadsEverything || caller.Participant == participant;

    /// <summary>Listing reveals other participants' suspensions: auditors and operators only.</summary>
    public static bool CanList(Caller caller) => caller.ReadsEverything;

    /// <summary>Suspending and reinstating are operator actions.</summary>
    public static bool CanChange(Caller caller) => caller.IsOperator;
}
