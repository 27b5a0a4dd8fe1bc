namespace Exchange.Server.Paging;

/// <summary>
/// Keyset paging: a query fetches one row more than the page holds; if that row came back there
/// is a next page, which continues after the last row's position.
/// </summary>
internal static class KeysetPage
{
    public static (IReadOnlyList<T> Page, long? Next) From<T>(List<(long Position, T Item)> rows, int pageSize) =>
        rows.Count <= pageSize
            ? (rows.Select(r => r.Item).ToList(), null)
            : (rows.Take(pageSize).Select(r => r.Item).ToList(), rows[pageSize - 1].Position);
}
