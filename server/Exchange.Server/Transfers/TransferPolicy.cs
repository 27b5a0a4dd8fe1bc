using Exchange.Server.Access.Model;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Server.Transfers.Model;

namespace Exchange.Server.Transfers;

/// <summary>Who may see grants and transfers, and upload, as Transfers decides it (DESIGN.md, Participants and roles).</summary>
internal static class TransferPolicy
{
    /// <summary>A grant is its consumer's and its dataset provider's business, and auditors' and operators' (as AccessPolicy says).</summary>
    public static bool CanSee(Caller caller, Grant grant) =>
        caller.ReadsEverything || grant.Consumer == caller.Participant || grant.Provider == caller.Participant;

    /// <summary>A transfer is seen by the same parties as the grant it is made under.</summary>
    public static bool CanSee(Caller caller, Transfer transfer) =>
        caller.ReadsEverything || transfer.Consumer == caller.Participant || transfer.Provider == caller.Participant;

    /// <summary>Uploading a revision changes the dataset: it takes being its provider and holding the provider role (as DatasetPolicy.CanEdit says).</summary>
    public static bool CanUpload(Caller caller, Dataset dataset) => caller.IsProvider && dataset.Provider == caller.Participant;
}
