using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;

namespace Exchange.Server.Access.Model;

/// <summary>A consumer's request for access to a dataset, and the provider's decision on it.</summary>
internal sealed record AccessRequest(
    AccessRequestId Id,
    DatasetId Dataset,
    string Provider,
    string Consumer,
    string Purpose,
    Terms RequestedTerms,
    AccessRequestState State,
    GrantId? Grant,
    string DecisionReason,
    DateTimeOffset CreateTime,
    DateTimeOffset? DecideTime);
