using Exchange.Server.Access.Model;
using Exchange.Server.Catalog.Model;

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

        if (requested.ExpireTime is { } until && (approved.ExpireTime is null || approved.ExpireTime > until))
        {
            return $"{field}.expire_time may not be later than the requested {until:O}.";
        }

        if (requested.MaxTransfers > 0 && (approved.MaxTransfers == 0 || approved.MaxTransfers > requested.MaxTransfers))
        {
            return $"{field}.max_transfers may not exceed the requested {requested.MaxTransfers} (0 means unlimited).";
        }

        if (requested.IsCompute && !approved.IsCompute)
        {
            return $"{field}.kind may not widen a request for queries (COMPUTE) to downloads.";
        }

        if (OfferWidening(requested.Offer, approved.Offer, $"{field}.offer") is { } dearer)
        {
            return dearer;
        }

        if ((approved.AllowsDerivation && !requested.AllowsDerivation) || (approved.DescendantsSurvive && !requested.DescendantsSurvive))
        {
            return $"{field}.derivation may only narrow the request; it allows more derivation than was asked for.";
        }

        return Tables.ViewNarrowing.Widening(requested.View, approved.View, $"{field}.view")
            ?? Tables.AnalysisRuleNarrowing.Widening(requested.Analysis, approved.Analysis, $"{field}.analysis");
    }

    /// <summary>An approval keeps the offer the request accepted; it may lower the price, not raise it or change anything else.</summary>
    private static string? OfferWidening(V1.Offer? requested, V1.Offer? approved, string field)
    {
        if (approved is null || Equals(requested, approved))
        {
            return null;
        }

        if (requested is null)
        {
            return $"{field}: the request accepted no offer; an approval does not add one.";
        }

        if (approved.Price is null || approved.Price.AmountMinor < 0)
        {
            return $"{field}.price is required, and not negative.";
        }

        var lowered = approved.Clone();
        lowered.Price = requested.Price.Clone();
        if (!Equals(lowered, requested))
        {
            return $"{field} must be the offer the request accepted, {requested.Name}, as it was; only its price may be lowered.";
        }

        return approved.Price.AmountMinor > requested.Price.AmountMinor || approved.Price.Currency != requested.Price.Currency
            ? $"{field}.price may only be lowered: the request accepted {requested.Price.AmountMinor} minor units of {requested.Price.Currency}."
            : null;
    }

    /// <summary>
    /// <paramref name="given"/> with what it leaves unset taken from <paramref name="defaults"/>: no
    /// purposes, no expiry, 0 transfers mean "as the other terms say". So an approval that only
    /// lowers max_transfers keeps the requested purposes and expiry, and a request that states only
    /// a purpose asks for what the automatic terms allow.
    /// </summary>
    public static Terms Complete(Terms given, Terms defaults) => new(
        given.Purposes.Count == 0 ? defaults.Purposes : given.Purposes,
        given.ExpireTime ?? defaults.ExpireTime,
        given.MaxTransfers == 0 ? defaults.MaxTransfers : given.MaxTransfers,
        given.View ?? defaults.View,
        given.Kind == V1.GrantKind.Unspecified ? defaults.Kind : given.Kind,
        given.Analysis ?? defaults.Analysis,
        given.Derivation ?? defaults.Derivation,
        given.Offer ?? defaults.Offer);

    /// <summary>Why <paramref name="asked"/> is not approved under <paramref name="automatic"/> terms (a sentence for the consumer), or null when it is within them.</summary>
    public static string? BeyondAutomatic(Terms automatic, Terms asked)
    {
        var extra = asked.Purposes.Except(automatic.Purposes, StringComparer.Ordinal).FirstOrDefault();
        if (extra is not null)
        {
            return $"the purpose '{extra}' is not one approved automatically ({string.Join(", ", automatic.Purposes)})";
        }

        if (automatic.ExpireTime is { } until && (asked.ExpireTime is null || asked.ExpireTime > until))
        {
            return $"it asks for access {(asked.ExpireTime is { } expiry ? $"until {expiry:O}" : "without an end")}, " +
                $"beyond the automatic {until:O}";
        }

        if (automatic.MaxTransfers > 0 && (asked.MaxTransfers == 0 || asked.MaxTransfers > automatic.MaxTransfers))
        {
            return $"it asks for {(asked.MaxTransfers == 0 ? "unlimited" : asked.MaxTransfers.ToString(System.Globalization.CultureInfo.InvariantCulture))} transfers, " +
                $"beyond the automatic {automatic.MaxTransfers}";
        }

        if (Tables.ViewNarrowing.Widening(automatic.View, asked.View, "view", conditionsOnDeliveredOnly: true) is { } wider)
        {
            return $"it asks for more of the table than the automatic view delivers ({wider})";
        }

        if (automatic.IsCompute && !asked.IsCompute)
        {
            return "it asks for downloads, and automatic approval is for queries only";
        }

        if (Tables.AnalysisRuleNarrowing.Widening(automatic.Analysis, asked.Analysis, "analysis") is { } broader)
        {
            return $"it asks for queries beyond the automatic analysis rule ({broader})";
        }

        if ((asked.AllowsDerivation && !automatic.AllowsDerivation) || (asked.DescendantsSurvive && !automatic.DescendantsSurvive))
        {
            return "it asks to derive datasets beyond what the automatic terms allow";
        }

        if (automatic.Analysis?.Privacy is { } offered && asked.Analysis?.Privacy is { } wanted && wanted.QueryEpsilonMillis < offered.QueryEpsilonMillis)
        {
            // Each query may fail its guarantee with chance delta: more, smaller queries out of the same budget add up to more.
            return $"it asks for a smaller epsilon per query than the automatic rule's {Tables.AnalysisRules.Epsilon(offered.QueryEpsilonMillis)}, so more queries out of its budget";
        }

        return null;
    }

    /// <summary>The terms a request asks for: its terms, with its purpose among the purposes.</summary>
    public static Terms Normalize(string purpose, Terms? requested)
    {
        var terms = requested ?? Terms.None;
        return terms.Purposes.Contains(purpose, StringComparer.Ordinal) ? terms : terms with { Purposes = [purpose, .. terms.Purposes] };
    }

    /// <summary>A grant's state, computed when read: revocation is final, then expiry, then exhaustion.</summary>
    public static GrantState StateOf(DateTimeOffset? revokeTime, Terms terms, long transfersUsed, DateTimeOffset now)
    {
        if (revokeTime is not null)
        {
            return GrantState.Revoked;
        }

        if (terms.ExpireTime is { } expiry && expiry <= now)
        {
            return GrantState.Expired;
        }

        return terms.MaxTransfers > 0 && transfersUsed >= terms.MaxTransfers ? GrantState.Exhausted : GrantState.Active;
    }
}
