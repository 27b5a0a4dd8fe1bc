using Exchange.Server.Security;
using Exchange.V1;

namespace Exchange.Server.Pricing;

/// <summary>Who may make and see offers (the roles: Security/Roles.cs).</summary>
internal static class PricingPolicy
{
    /// <summary>A dataset's provider makes and withdraws its offers.</summary>
    public static bool CanOffer(Caller caller, string datasetProvider) => caller.IsProvider && caller.Participant == datasetProvider;

    /// <summary>
    /// An offer is seen by whoever sees its dataset, except a private one: by the participant it is made
    /// to, the provider, auditors and operators. Anyone else is told it does not exist.
    /// </summary>
    public static bool CanSee(Caller caller, string datasetProvider, Offer offer) =>
        offer.PrivateTo.Length == 0 || offer.PrivateTo == caller.Participant || caller.Participant == datasetProvider || caller.ReadsEverything;
}
