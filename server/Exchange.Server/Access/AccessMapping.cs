using Exchange.Server.Access.Model;
using Exchange.Server.Catalog;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Access;

/// <summary>Access's domain types to the contract's exchange.v1 messages, at the edge.</summary>
internal static class AccessMapping
{
    public static V1.AccessRequest ToProto(this AccessRequest request) => new()
    {
        Name = request.Id.Name,
        Dataset = request.Dataset.Name,
        Provider = request.Provider,
        Consumer = request.Consumer,
        Purpose = request.Purpose,
        RequestedTerms = request.RequestedTerms.ToProto(),
        State = (V1.AccessRequestState)(int)request.State,
        Grant = request.Grant?.Name ?? "",
        DecisionReason = request.DecisionReason,
        CreateTime = Timestamp.FromDateTimeOffset(request.CreateTime),
        DecideTime = request.DecideTime is { } decided ? Timestamp.FromDateTimeOffset(decided) : null,
    };

    public static V1.ComputeBudget ToProto(this QueryBudget budget) => new()
    {
        TotalEpsilonMillis = budget.TotalMillis,
        SpentEpsilonMillis = budget.SpentMillis,
        RemainingEpsilonMillis = budget.RemainingMillis,
        Queries = budget.Queries,
    };

    public static V1.Grant ToProto(this Grant grant) => new()
    {
        Name = grant.Id.Name,
        Dataset = grant.Dataset.Name,
        Consumer = grant.Consumer,
        Provider = grant.Provider,
        AccessRequest = grant.AccessRequest.Name,
        Terms = grant.Terms.ToProto(),
        TransfersUsed = grant.TransfersUsed,
        RevokeTime = grant.RevokeTime is { } revoked ? Timestamp.FromDateTimeOffset(revoked) : null,
        RevokeReason = grant.RevokeReason,
        CreateTime = Timestamp.FromDateTimeOffset(grant.CreateTime),
        State = (V1.GrantState)(int)grant.State,
        RenewalCancelTime = grant.RenewalCancelTime is { } cancelled ? Timestamp.FromDateTimeOffset(cancelled) : null,
    };
}
