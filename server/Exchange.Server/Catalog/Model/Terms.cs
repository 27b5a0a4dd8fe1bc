namespace Exchange.Server.Catalog.Model;

/// <summary>
/// What data may be used for: the purposes, until when (none: no end), how many transfers (0:
/// unlimited) and, for tables, which part of each (<see cref="View"/>; null: all of it; a message
/// never changed once in here). A dataset offers them for automatic approval, a consumer asks for
/// them and a grant carries them; Access decides how they compare (TermsPolicy). <see cref="Kind"/>
/// says whether they allow downloads or queries only; <see cref="Analysis"/> (null: no queries) what
/// queries may do (Compute.AnalysisPolicy); <see cref="Derivation"/> whether derived datasets may be declared (Lineage).
/// </summary>
internal sealed record Terms(IReadOnlyList<string> Purposes, DateTimeOffset? ExpireTime, long MaxTransfers, V1.View? View = null,
    V1.GrantKind Kind = V1.GrantKind.Unspecified, V1.AnalysisRule? Analysis = null, V1.DerivationTerms? Derivation = null,
    V1.Offer? Offer = null)
{
    public static readonly Terms None = new([], null, 0);

    /// <summary>A COMPUTE grant runs queries and never downloads.</summary>
    public bool IsCompute => Kind == V1.GrantKind.Compute;

    /// <summary>The consumer may declare datasets derived from what it receives (Lineage).</summary>
    public bool AllowsDerivation => Derivation is { Allowed: true };

    /// <summary>Datasets derived under these terms stay downloadable when the grant is revoked or the source's rights cancelled.</summary>
    public bool DescendantsSurvive => Derivation is { Allowed: true, DescendantsSurviveRevocation: true };

    public bool Equals(Terms? other) =>
        other is not null && Purposes.SequenceEqual(other.Purposes, StringComparer.Ordinal)
        && ExpireTime == other.ExpireTime && MaxTransfers == other.MaxTransfers && Equals(View, other.View)
        && Kind == other.Kind && Equals(Analysis, other.Analysis) && Equals(Derivation, other.Derivation)
        && Equals(Offer, other.Offer);

    public override int GetHashCode() => HashCode.Combine(Purposes.Count, ExpireTime, MaxTransfers);
}
