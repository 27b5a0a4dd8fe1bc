using System.Diagnostics;
using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Smoke;

/// <summary>
/// The real server binary over TLS, inspected the way a person would: buf curl through
/// reflection, and the SDK trusting the dev CA.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ServerProcessSmokeTests(ServerProcess server) : IClassFixture<ServerProcess>
{
    [Fact]
    public void The_server_keeps_its_data_where_it_was_told() =>
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "exchange.db")), server.Log);

    [SkippableFact]
    public async Task Buf_curl_lists_the_exchange_services_and_health_through_reflection_over_tls()
    {
        var output = await Buf("--list-services", server.Address.ToString());

        var services = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var expected in new[]
        {
            "exchange.v1.CatalogService", "exchange.v1.AccessService", "exchange.v1.TransferService", "exchange.v1.AuditService",
            "grpc.health.v1.Health",
        })
        {
            Assert.Contains(expected, services);
        }
    }

    [SkippableFact]
    public async Task Buf_curl_reads_the_catalog_with_a_dev_token()
    {
        using var acme = server.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, title: "Smoke test data", tags: ["smoke"]);

        var token = ExchangeFactory.Token("initech", "consumer");
        var output = await Buf("-H", $"Authorization: Bearer {token}", "-d", "{\"tag\":\"smoke\"}",
            $"{server.Address}exchange.v1.CatalogService/ListDatasets");

        using var json = JsonDocument.Parse(output);
        var names = json.RootElement.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("name").GetString());
        Assert.Equal([dataset.Name], names);
    }

    [SkippableFact]
    public async Task Buf_curl_without_a_token_gets_unauthenticated()
    {
        var (exit, output, error) = await RunBuf($"{server.Address}exchange.v1.CatalogService/ListDatasets");
        Assert.NotEqual(0, exit);
        Assert.Contains("unauthenticated", output + error);
    }

    [Fact]
    public async Task The_sdk_refuses_the_server_unless_it_trusts_the_dev_ca()
    {
        using var trusting = server.ClientFor(Participant.Initech);
        await trusting.Catalog.ListDatasetsAsync(new ListDatasetsRequest());

        using var untrusting = server.ClientFor(Participant.Initech, caFile: null);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await untrusting.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
        Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Contains("SSL", error.Status.Detail);
    }

    private async Task<string> Buf(params string[] args)
    {
        var (exit, output, error) = await RunBuf(args);
        Assert.True(exit == 0, $"buf curl failed ({exit}): {error}\nserver log:\n{server.Log}");
        return output;
    }

    private async Task<(int Exit, string Output, string Error)> RunBuf(params string[] args)
    {
        var buf = Tools.Buf();
        if (buf is null)
        {
            Assert.False(Tools.Required, "buf is required (EXCHANGE_REQUIRE_BACKENDS=1) but was not found; run: npm ci --prefix tools");
            Skip.If(true, "buf not found: run `npm ci --prefix tools` (or set BUF) to run the buf curl smoke tests.");
        }

        var start = new ProcessStartInfo(buf!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "curl", "--protocol", "grpc", "--cacert", server.CaFile }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
