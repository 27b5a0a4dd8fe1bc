using Exchange.Server.Security;

namespace Exchange.Server.Billing;

/// <summary>Who may read statements and settle periods (the roles: Security/Roles.cs).</summary>
internal static class BillingPolicy
{
    /// <summary>A participant reads its own statements; auditors and operators read anyone's.</summary>
    public static bool CanReadStatement(Caller caller, string participant) => caller.Participant == participant || caller.ReadsEverything;

    /// <summary>Operators close periods early and record settlements paid.</summary>
    public static bool CanSettle(Caller caller) => caller.IsOperator;
}
