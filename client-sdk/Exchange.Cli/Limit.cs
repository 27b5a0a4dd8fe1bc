namespace Exchange.Cli;

internal static class Limit
{
    /// <summary>At most <paramref name="limit"/> items, or all of them when it is 0 (the list commands' --limit).</summary>
    public static IAsyncEnumerable<T> AtMost<T>(this IAsyncEnumerable<T> source, int limit) => limit > 0 ? source.Take(limit) : source;
}
