namespace Exchange.Server.Compute.Model;

/// <summary>
/// A query as a caller sent it: its form ("sql" or "structured", the detail a refusal is logged
/// under), the text that shows it (the SQL, or the message as JSON), and how to make its
/// <see cref="Query"/> (parsing, or mapping: a refusal of either is a logged refusal of the query).
/// </summary>
internal sealed record QueryAsk(string Form, string Sent, Func<Query> Parse);
