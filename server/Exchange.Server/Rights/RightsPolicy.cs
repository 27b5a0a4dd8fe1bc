using Exchange.Server.Security;

namespace Exchange.Server.Rights;

/// <summary>Who may act on rights (the roles: Security/Roles.cs). Every participant may see every right: the registry is public.</summary>
internal static class RightsPolicy
{
    /// <summary>A provider registers rights on the datasets it provides.</summary>
    public static bool CanRegister(Caller caller, string datasetProvider) => caller.IsProvider && caller.Participant == datasetProvider;

    /// <summary>Review is the registry's, which operators keep.</summary>
    public static bool CanReview(Caller caller) => caller.IsOperator;

    /// <summary>
    /// Any participant but the holder may object during a review; auditors only read, and the
    /// operator reviewing decides rather than objects.
    /// </summary>
    public static bool CanObject(Caller caller, string holder) =>
        (caller.IsProvider || caller.IsConsumer) && caller.Participant != holder;

    /// <summary>The holder licenses, transfers, changes and cancels its right.</summary>
    public static bool IsHolder(Caller caller, string holder) => caller.Participant == holder && (caller.IsProvider || caller.IsConsumer);

    /// <summary>The holder cancels its own right; an operator any right, with a reason.</summary>
    public static bool CanCancel(Caller caller, string holder) => IsHolder(caller, holder) || caller.IsOperator;
}
