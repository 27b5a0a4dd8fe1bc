using Exchange.V1;

namespace Exchange.Server.Access;

/// <summary>How terms compare: an approval may narrow what was asked for, never widen it.</summary>
internal static class TermsPolicy
{
    /// <summary>
    /// The problem that makes <paramref name="approved"/> wider than <paramref name="requested"/>
    /// (a message naming the field), or null when it grants no more than was asked.
    /// </summary>
    public static string? Widening(Terms requested, Terms approved, string field = "terms")
    {
        if (approved.Purposes.Count == 0)
        {
            return $"{field}.purposes must name at least one of the requested purposes.";
        }

        var extra = approved.Purposes.Except(requested.Purposes, StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            return $"{field}.purposes may only narrow the request; '{extra[0]}' was not requested.";
        }

        if (requested.ExpireTime is not null &&
            (approved.ExpireTime is null || approved.ExpireTime.ToDateTimeOffset() > requested.ExpireTime.ToDateTimeOffset()))
        {
            return $"{field}.expire_time may not be later than the requested {requested.ExpireTime.ToDateTimeOffset():O}.";
        }

        if (requested.MaxTransfers > 0 && (approved.MaxTransfers == 0 || approved.MaxTransfers > requested.MaxTransfers))
        {
            return $"{field}.max_transfers may not exceed the requested {requested.MaxTransfers} (0 means unlimited).";
        }

        return null;
    }

    /// <summary>True when <paramref name="requested"/> asks for nothing beyond <paramref name="limit"/>.</summary>
    public static bool IsWithin(Terms requested, Terms limit) => Widening(limit, requested) is null;

    /// <summary>The terms a request asks for: its terms, with its purpose among the purposes.</summary>
    public static Terms Normalize(string purpose, Terms? requested)
    {
        var terms = requested?.Clone() ?? new Terms();
        if (!terms.Purposes.Contains(purpose))
        {
            terms.Purposes.Insert(0, purpose);
        }

        return terms;
    }

    /// <summary>A grant's state, computed when read: revocation is final, then expiry, then exhaustion.</summary>
    public static GrantState StateOf(Grant grant, DateTimeOffset now)
    {
        if (grant.RevokeTime is not null)
        {
            return GrantState.Revoked;
        }

        if (grant.Terms.ExpireTime is { } expiry && expiry.ToDateTimeOffset() <= now)
        {
            return GrantState.Expired;
        }

        return grant.Terms.MaxTransfers > 0 && grant.TransfersUsed >= grant.Terms.MaxTransfers ? GrantState.Exhausted : GrantState.Active;
    }
}
