using Exchange.Server.Storage;

namespace Exchange.Tests.Infrastructure;

/// <summary>How SQLite runs a statement: the detail of each step of its <c>EXPLAIN QUERY PLAN</c>, in order.</summary>
internal static class SqlitePlan
{
    public static Task<List<string>> StepsAsync(Database database, string sql, params (string Name, object Value)[] parameters) =>
        database.ReadAsync((connection, _) =>
        {
            using var explain = connection.Command("EXPLAIN QUERY PLAN " + sql);
            foreach (var (name, value) in parameters)
            {
                explain.With(name, value);
            }

            using var reader = explain.ExecuteReader();
            var steps = new List<string>();
            while (reader.Read())
            {
                steps.Add(reader.GetString(3));
            }

            return Task.FromResult(steps);
        }, CancellationToken.None);
}
