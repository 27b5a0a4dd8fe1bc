namespace Exchange.Server.Storage;

/// <summary>
/// One version's schema script, written in SQLite's SQL, which each engine maps to its own
/// (<see cref="DatabaseEngine.SchemaScript"/>); or, where no mapping serves, with a script of
/// PostgreSQL's own.
/// </summary>
internal sealed record Migration(string Sqlite, string? Postgres = null)
{
    public static implicit operator Migration(string script) => new(script);
}
