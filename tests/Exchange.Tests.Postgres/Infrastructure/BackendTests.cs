using Exchange.Server.Storage;
using Exchange.Server.Transfers;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Infrastructure;

/// <summary>Guards the premise of this assembly: the shared contract tests really ran on the scale-out backend.</summary>
public sealed class BackendTests
{
    [Fact]
    public void The_gateways_of_this_assembly_keep_state_in_postgres_and_revisions_in_a_bucket()
    {
        using var factory = new ExchangeFactory();
        _ = factory.Server;
        var engine = factory.Services.GetRequiredService<Database>().Engine;
        Assert.IsType<PostgresEngine>(engine);
        Assert.StartsWith("postgres://127.0.0.1:", engine.Location);
        Assert.IsType<S3BlobStore>(factory.Services.GetRequiredService<IBlobStore>());
    }
}
