using Exchange.Server.Security;

namespace Exchange.Server.Lineage;

/// <summary>Who may declare lineage and see its edges (the roles: Security/Roles.cs).</summary>
internal static class LineagePolicy
{
    /// <summary>A dataset's provider declares what it was derived from.</summary>
    public static bool CanDeclare(Caller caller, string datasetProvider) => caller.IsProvider && caller.Participant == datasetProvider;

    /// <summary>
    /// An edge shows who derived what from whom: the two providers it joins, auditors and operators
    /// see it, and everyone once the derived dataset is listed (its lineage is then part of its description).
    /// </summary>
    public static bool CanSeeEdge(Caller caller, string declaredBy, string sourceProvider, bool derivedListed) =>
        caller.ReadsEverything || caller.Participant == declaredBy || caller.Participant == sourceProvider || derivedListed;
}
