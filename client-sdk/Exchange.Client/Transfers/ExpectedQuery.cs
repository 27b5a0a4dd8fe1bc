namespace Exchange.Client.Transfers;

/// <summary>What the client itself saw of a query's answer, which the receipt's logged event must repeat.</summary>
/// <param name="Grant">The grant the query ran under, <c>grants/{id}</c>.</param>
/// <param name="Revision">The revision the response named (which must be the one asked for, when one was).</param>
/// <param name="Query">The query as the response says it was checked and run (its normalised text).</param>
/// <param name="ResultSha256">The SHA-256 the client computed over the result message's encoding.</param>
public sealed record ExpectedQuery(string Grant, string Revision, string Query, byte[] ResultSha256)
{
    /// <summary>
    /// The SHA-256 of the request the client sent (RunQueryRequest.sql as UTF-8, or the encoding of its structured
    /// query), which the logged event must repeat; null: not checked (an answer whose request is not at hand).
    /// </summary>
    public byte[]? RequestSha256 { get; init; }
}
