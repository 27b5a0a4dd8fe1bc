using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>
/// What a statement is checked against for one grant, all of it from the log: its parties and start (the approval's
/// subject, actor and time), the offer it accepted (the grant's copy, whose SHA-256 the approval logged), and when it
/// ended, if it did (revoked, the expiry the approval logged, the end of the period in which its consumer cancelled its renewal,
/// or the start of its last transfer).
/// </summary>
/// <param name="Grant">The grant, <c>grants/{id}</c>.</param>
/// <param name="Consumer">Who pays under it.</param>
/// <param name="Provider">Who earns under it.</param>
/// <param name="Offer">The offer as the grant keeps it.</param>
/// <param name="CreateTime">When it was approved: a subscription's periods count from then.</param>
/// <param name="EndTime">When it was revoked, expires, or (an auto-renewing subscription) ends the period in which its renewal was
/// cancelled or started the last of its max_transfers, whichever is first; null while none.</param>
public sealed record GrantPrice(string Grant, string Consumer, string Provider, Offer Offer, DateTimeOffset CreateTime, DateTimeOffset? EndTime = null);
