using Exchange.Server.Access.Model;
using Exchange.Server.Security;

namespace Exchange.Server.Compute;

/// <summary>Who may run queries under a grant, and when.</summary>
internal static class ComputePolicy
{
    /// <summary>Why <paramref name="caller"/> may not run a query under <paramref name="grant"/> now (a sentence for it), or null when it may.</summary>
    public static string? Denial(Caller caller, Grant grant)
    {
        if (caller.Participant != grant.Consumer)
        {
            return $"Only {grant.Consumer}, the consumer of '{grant.Id.Name}', may run queries under it.";
        }

        if (!caller.IsConsumer)
        {
            return $"Running queries needs the 'consumer' role, which this token of {caller.Participant} does not carry.";
        }

        // Transfers used up do not end queries: they count downloads.
        return grant.State switch
        {
            GrantState.Revoked => $"'{grant.Id.Name}' was revoked: {grant.RevokeReason}",
            GrantState.Expired => $"'{grant.Id.Name}' expired at {grant.Terms.ExpireTime.GetValueOrDefault():O}.",
            _ when grant.Terms.Analysis is null =>
                $"'{grant.Id.Name}' is a download grant without an analysis rule: it allows no queries. Ask for terms with an analysis rule.",
            // Granted before views and rules were kept apart: queries would not apply the view.
            _ when grant.Terms.View is not null =>
                $"'{grant.Id.Name}' carries a view beside its analysis rule, and queries do not apply a view. Ask for a grant with the rule alone.",
            _ => null,
        };
    }
}
