using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Exchange.Server.Storage;

/// <summary>
/// Commands kept prepared on a pooled reader connection, by their SQL: executing the same command
/// again binds the new parameters without parsing and planning the statement again (on SQLite that
/// was about two thirds of a catalog read). A connection used by one read at a time owns its set,
/// so no lock is needed; the set is bounded, as dynamic SQL (IN lists, optional filters) varies.
/// </summary>
internal sealed class PreparedStatements : IDisposable
{
    private const int Capacity = 128;

    private static readonly ConditionalWeakTable<DbConnection, PreparedStatements> Of = new();

    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>Gives <paramref name="connection"/> a set of prepared commands for its life in the pool.</summary>
    public static void Attach(DbConnection connection) => Of.AddOrUpdate(connection, new PreparedStatements());

    /// <summary>The set of <paramref name="connection"/>, or null when it keeps none (the writer, PostgreSQL's pooled connections).</summary>
    public static PreparedStatements? For(DbConnection connection) => Of.TryGetValue(connection, out var statements) ? statements : null;

    /// <summary>The command for <paramref name="sql"/>, with no parameters bound yet.</summary>
    public DbCommand Get(DbConnection connection, string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            if (_commands.Count >= Capacity)
            {
                Dispose();
            }

            command = connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Parameters.Clear();
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
