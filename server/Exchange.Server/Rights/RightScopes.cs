using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Rights;

/// <summary>What one right's scope and validity cover of another's, or of a grant's terms. An empty list covers everything.</summary>
internal static class RightScopes
{
    /// <summary>Whether <paramref name="outer"/> covers every purpose and territory of <paramref name="inner"/>.</summary>
    public static bool Covers(RightScope outer, RightScope inner) =>
        CoversAll(outer.Purposes, inner.Purposes) && CoversAll(outer.Territories, inner.Territories);

    /// <summary>Whether <paramref name="scope"/> covers each of <paramref name="purposes"/> (none asked: only a scope of any purpose).</summary>
    public static bool CoversPurposes(RightScope scope, IReadOnlyCollection<string> purposes) => CoversAll(scope.Purposes, purposes);

    /// <summary>Whether [<paramref name="start"/>, <paramref name="end"/>) lies within the right's validity (a null end: no end).</summary>
    public static bool WithinValidity(Right right, DateTimeOffset start, DateTimeOffset? end) =>
        start >= Start(right) && (End(right) is not { } limit || (end is { } e && e <= limit));

    /// <summary>Whether two validities share any instant.</summary>
    public static bool Overlap(DateTimeOffset start1, DateTimeOffset? end1, DateTimeOffset start2, DateTimeOffset? end2) =>
        (end2 is null || start1 < end2) && (end1 is null || start2 < end1);

    /// <summary>Whether the right is in force at <paramref name="now"/>: active, begun and not ended.</summary>
    public static bool InForce(Right right, DateTimeOffset now) =>
        right.State == RightState.Active && Start(right) <= now && (End(right) is not { } end || now < end);

    public static DateTimeOffset Start(Right right) => right.StartTime.ToDateTimeOffset();

    public static DateTimeOffset? End(Right right) => right.EndTime?.ToDateTimeOffset();

    public static DateTimeOffset? End(Timestamp? end) => end?.ToDateTimeOffset();

    private static bool CoversAll(IReadOnlyCollection<string> outer, IReadOnlyCollection<string> inner) =>
        outer.Count == 0 || (inner.Count > 0 && inner.All(outer.Contains));
}
