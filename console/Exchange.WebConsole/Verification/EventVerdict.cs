namespace Exchange.WebConsole.Verification;

/// <summary>What the browser found for one event.</summary>
/// <param name="Index">The event's index in the log.</param>
/// <param name="State">Verified, failed, or not yet in a signed checkpoint.</param>
/// <param name="Message">What was checked, or what did not verify.</param>
/// <param name="ProofLength">How many hashes the inclusion proof had.</param>
/// <param name="TreeSize">The size of the signed checkpoint it was checked against.</param>
public sealed record EventVerdict(long Index, VerdictState State, string Message, int ProofLength = 0, long TreeSize = 0);
