using Exchange.Server.Access.Model;
using Exchange.Server.Catalog.Model;

namespace Exchange.Server.Compute.Model;

/// <summary>
/// A query let through to run: the grant, the revision, the query checked against the grant's
/// rule, and under differential privacy the epsilon it spent on admission with the index of the
/// <c>compute.admit</c> event that records it. Or, with <see cref="Refused"/>, a query refused and
/// recorded as such (invalid, or beyond the budget), whose refusal the service answers with once
/// the record has committed.
/// </summary>
internal sealed record Admission(Grant? Grant, StoredRevision? Revision, Query? Query, string Text, Refusal? Refused = null,
    long SpentMillis = 0, long? AdmitEvent = null);
