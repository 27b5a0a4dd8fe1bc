using Exchange.Server.Compute.Model;

namespace Exchange.Server.Compute;

/// <summary>Compute's domain types to the contract's exchange.v1 messages, at the edge.</summary>
internal static class ComputeMapping
{
    public static V1.QueryResult ToProto(this QueryAnswer answer)
    {
        var result = new V1.QueryResult { SuppressedRows = answer.Suppressed };
        result.Columns.Add(answer.Columns);
        foreach (var row in answer.Rows)
        {
            var values = new V1.QueryRow();
            values.Values.Add(row.Select(v => v ?? ""));
            result.Rows.Add(values);
        }

        return result;
    }
}
