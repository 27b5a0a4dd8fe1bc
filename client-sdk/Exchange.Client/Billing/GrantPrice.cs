using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>What a statement is checked against for one grant: its parties, when it began, and the offer it accepted (bound to the log by the approval's offer_sha256).</summary>
/// <param name="Grant">The grant, <c>grants/{id}</c>.</param>
/// <param name="Consumer">Who pays under it.</param>
/// <param name="Provider">Who earns under it.</param>
/// <param name="Offer">The offer as the grant keeps it.</param>
/// <param name="CreateTime">When it was approved: a subscription's periods count from then.</param>
public sealed record GrantPrice(string Grant, string Consumer, string Provider, Offer Offer, DateTimeOffset CreateTime);
