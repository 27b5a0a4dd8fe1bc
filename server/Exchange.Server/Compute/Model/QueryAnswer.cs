namespace Exchange.Server.Compute.Model;

/// <summary>
/// What a query answered: its output columns, the rows (values as text, null for null) that
/// passed the threshold, and how many result rows were suppressed under it.
/// </summary>
internal sealed record QueryAnswer(IReadOnlyList<string> Columns, IReadOnlyList<string?[]> Rows, long? Suppressed);
