using Exchange.Server.Storage;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Hosting;

public sealed class InternalErrorTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_storage_failure_answers_internal_without_leaking_sql_or_stack_traces()
    {
        // The failure is logged server-side with the detail the caller must not see.
        _factory.ExpectErrors(e => e.Is("UnhandledExceptionInterceptor", 1));
        using var acme = _factory.As(Participant.Acme);
        await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest());

        // Break the store underneath the server: the next query fails inside SQLite.
        var database = _factory.Services.GetRequiredService<Database>();
        using (var connection = database.Engine.OpenWriter())
        {
            connection.Command("DROP TABLE dataset_tags").ExecuteNonQuery();
        }

        // Another page than the first call's: that one's answer is cached until the next write, and
        // this change went around the writer.
        var error = await Rpc.FailsWith(StatusCode.Internal, acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 7 }));
        Assert.StartsWith("An internal error occurred. Reference: ", error.Status.Detail);
        foreach (var leak in new[] { "dataset_tags", "SQLite", "SELECT", "   at ", "Exception" })
        {
            Assert.DoesNotContain(leak, error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(error.Trailers, t => t.Key.Contains("exception", StringComparison.OrdinalIgnoreCase));
    }
}
