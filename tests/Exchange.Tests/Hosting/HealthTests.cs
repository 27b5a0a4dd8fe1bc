using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Hosting;

/// <summary>Health tells a load balancer the truth about storage, at once.</summary>
public sealed class HealthTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Health_reports_not_serving_as_soon_as_the_database_stops_answering()
    {
        // The failing check is logged as an error by the health check service, as an operator wants it.
        _factory.ExpectErrors(e => e.Is("DefaultHealthCheckService", 103));
        using var anonymous = _factory.ClientWithToken(null);
        var health = new Health.HealthClient(anonymous.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);

        var database = _factory.Services.GetRequiredService<Database>();
        using (var connection = database.Engine.OpenWriter())
        {
            connection.Command("DROP TABLE schema_migrations").ExecuteNonQuery();
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }
}
