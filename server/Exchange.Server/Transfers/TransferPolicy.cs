using Exchange.Server.Security;
using Exchange.Server.Transfers.Model;

namespace Exchange.Server.Transfers;

/// <summary>
/// Who may see a transfer. Who may download is the grant's business (Access.AccessPolicy and the
/// grant's terms), who may upload the dataset's (Catalog.DatasetPolicy.CanEdit).
/// </summary>
internal static class TransferPolicy
{
    /// <summary>A transfer is seen by the same parties as the grant it is made under.</summary>
    public static bool CanSee(Caller caller, Transfer transfer) =>
        caller.ReadsEverything || transfer.Consumer == caller.Participant || transfer.Provider == caller.Participant;
}
