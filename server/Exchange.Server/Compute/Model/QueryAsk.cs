namespace Exchange.Server.Compute.Model;

/// <summary>
/// A query as a caller sent it: its form ("sql" or "structured", the detail a refusal is logged
/// under), the text that shows it (the SQL, or the message as JSON), the SHA-256 of what was sent
/// (the SQL as UTF-8, or the message's encoding: its answer's event repeats it, so the caller can
/// tell its own question's answer from another's), and how to make its <see cref="Query"/>
/// (parsing, or mapping: a refusal of either is a logged refusal of the query).
/// </summary>
internal sealed record QueryAsk(string Form, string Sent, string Sha256, Func<Query> Parse);
