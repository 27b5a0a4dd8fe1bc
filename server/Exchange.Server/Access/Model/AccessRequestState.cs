namespace Exchange.Server.Access.Model;

/// <summary>An access request's state; the numbers are those stored and of exchange.v1.AccessRequestState.</summary>
internal enum AccessRequestState
{
    Pending = 1,
    Approved = 2,
    Rejected = 3,
    Withdrawn = 4,
}
