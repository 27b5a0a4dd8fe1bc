namespace Exchange.Client.Transfers;

/// <summary>
/// What the client itself saw of a download, which the receipt's logged event must repeat: a
/// receipt proves something only about the transfer, grant and bytes it names.
/// </summary>
/// <param name="Transfer">The transfer the download's header named, <c>transfers/{id}</c>.</param>
/// <param name="Grant">The grant the client downloaded under, <c>grants/{id}</c>.</param>
/// <param name="Revision">The revision the download's header named.</param>
/// <param name="SizeBytes">The bytes received, which is the revision's whole size.</param>
/// <param name="Sha256">The SHA-256 the client computed over the bytes it received.</param>
public sealed record ExpectedTransfer(string Transfer, string Grant, string Revision, long SizeBytes, byte[] Sha256);
