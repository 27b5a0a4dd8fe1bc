using System.Data.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Exchange.Server.Storage;

/// <summary>Healthy when the database answers a query.</summary>
internal sealed class StorageHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.ReadAsync(async (connection, ct) =>
            {
                await using var command = connection.Command("SELECT COUNT(*) FROM schema_migrations");
                return await command.ExecuteScalarAsync(ct);
            }, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is DbException or IOException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.");
        }
    }
}
