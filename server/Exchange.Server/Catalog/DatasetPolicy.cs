using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;

namespace Exchange.Server.Catalog;

/// <summary>Who may see and act on a dataset (the roles: Security/Roles.cs).</summary>
internal static class DatasetPolicy
{
    /// <summary>Creating a dataset takes the provider role.</summary>
    public static bool CanCreate(Caller caller) => caller.IsProvider;

    /// <summary>
    /// A DRAFT is its provider's alone; LISTED is everyone's; DELISTED stays visible to its
    /// provider, to holders of grants on it, and to auditors and operators.
    /// </summary>
    public static bool CanSee(Caller caller, Dataset dataset, bool callerHoldsGrant) => dataset.State switch
    {
        _ when dataset.Provider == caller.Participant => true,
        DatasetState.Listed => true,
        DatasetState.Delisted => caller.ReadsEverything || callerHoldsGrant,
        _ => false,
    };

    /// <summary>Changing a dataset takes being its provider and holding the provider role.</summary>
    public static bool CanEdit(Caller caller, Dataset dataset) => IsEditor(caller, dataset.Provider);


    /// <summary>The provider takes its own dataset off the catalog; an operator any dataset.</summary>
    public static bool CanDelist(Caller caller, Dataset dataset) => CanEdit(caller, dataset) || caller.IsOperator;

    private static bool IsEditor(Caller caller, string provider) => caller.IsProvider && provider == caller.Participant;
}
