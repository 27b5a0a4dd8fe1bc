using System.Data.Common;

namespace Exchange.Server.Storage;

/// <summary>Terse ADO.NET commands: the stores are written against System.Data.Common, not one provider.</summary>
internal static class DbExtensions
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// A read's command for <paramref name="sql"/>: on a pooled reader connection that keeps prepared
    /// statements, the one prepared there before (parameters cleared), which the connection owns and
    /// the caller must not dispose; elsewhere a new one, which the caller need not dispose either.
    /// </summary>
    public static DbCommand Prepared(this DbConnection connection, string sql) =>
        PreparedStatements.For(connection)?.Get(connection, sql) ?? connection.Command(sql);

    /// <summary><see cref="Prepared(DbConnection, string)"/> for a read, or a new command in <paramref name="transaction"/> for a write.</summary>
    public static DbCommand Prepared(this DbConnection connection, string sql, DbTransaction? transaction) =>
        transaction is null ? connection.Prepared(sql) : connection.Command(sql, transaction);

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>Adds a parameter to be set per execution of a prepared command.</summary>
    public static DbParameter Parameter(this DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Reads every row of <paramref name="command"/> with <paramref name="map"/>, without blocking where the provider can.</summary>
    public static async Task<List<T>> ListAsync<T>(this DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }
}
