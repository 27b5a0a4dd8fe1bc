using System.Text.Json;
using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Cli;

/// <summary>The <c>exchange</c> command, run in-process against an in-process gateway.</summary>
public sealed class CliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private Task<(int Exit, string Out, string Err)> Run(params string[] args) => Gateway.RunCliAsync(args);

    private async Task<string> TokenFor(string participant, params string[] roles)
    {
        var args = new List<string> { "token", "--participant", participant, "--key", ExchangeFactory.DevKeyFile };
        foreach (var role in roles)
        {
            args.AddRange(["--role", role]);
        }

        var (exit, output, error) = await Run([.. args]);
        Assert.True(exit == 0, error);
        return output.Trim();
    }

    [Fact]
    public async Task Token_mints_a_token_the_gateway_accepts_with_the_given_roles()
    {
        var token = await TokenFor("acme", "provider", "consumer");
        Assert.Equal(3, token.Split('.').Length);

        var (exit, output, error) = await Run("--token", token, "--json", "datasets", "create", "--title", "From the CLI",
            "--classification", "internal", "--tag", "cli", "--description", "made by a test");
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("acme", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal("CLASSIFICATION_INTERNAL", json.RootElement.GetProperty("classification").GetString());
        Assert.Equal("DATASET_STATE_DRAFT", json.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Datasets_commands_walk_the_lifecycle_with_tables_and_json()
    {
        var acme = await TokenFor("acme", "provider");
        var (_, created, _) = await Run("--token", acme, "--json", "datasets", "create", "--title", "Tides", "--classification", "public");
        var name = JsonDocument.Parse(created).RootElement.GetProperty("name").GetString()!;
        using (var client = Gateway.ClientWithToken(acme))
        {
            await client.UploadAsync(name, new MemoryStream(Catalog.CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        }

        var (exit, output, error) = await Run("--token", acme, "datasets", "publish", name);
        Assert.True(exit == 0, error);
        Assert.Contains("LISTED", output);

        (exit, output, error) = await Run("--token", acme, "datasets", "update", name, "--title", "Tides and currents", "--tag", "ocean");
        Assert.True(exit == 0, error);
        Assert.Contains("Tides and currents", output);

        var consumer = await TokenFor("initech", "consumer");
        (exit, output, _) = await Run("--token", consumer, "datasets", "list", "--tag", "ocean");
        Assert.Equal(0, exit);
        Assert.Contains(name, output);
        Assert.Contains("Tides and currents", output);
        Assert.Contains("1 dataset", output);

        (exit, output, _) = await Run("--token", consumer, "--json", "datasets", "get", name);
        Assert.Equal(0, exit);
        Assert.Equal("Tides and currents", JsonDocument.Parse(output).RootElement.GetProperty("title").GetString());

        (exit, output, _) = await Run("--token", acme, "datasets", "delist", name, "--reason", "stale");
        Assert.Equal(0, exit);
        Assert.Contains("DELISTED", output);
    }

    [Fact]
    public async Task Errors_print_the_grpc_status_on_stderr_and_exit_non_zero()
    {
        var consumer = await TokenFor("initech", "consumer");
        var (exit, output, error) = await Run("--token", consumer, "datasets", "create", "--title", "x", "--classification", "public");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: PermissionDenied:", error);

        (exit, _, error) = await Run("datasets", "list");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: Unauthenticated:", error);

        (exit, _, error) = await Run("--token", consumer, "datasets", "get", "datasets/nope");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: NotFound:", error);
    }

    [Fact]
    public async Task Bad_usage_is_reported_without_calling_the_server()
    {
        var (exit, _, error) = await Run("token", "--participant", "acme", "--role", "king");
        Assert.NotEqual(0, exit);
        Assert.Contains("king", error);

        (exit, _, error) = await Run("token", "--participant", "acme", "--role", "provider", "--lifetime", "forever", "--key", ExchangeFactory.DevKeyFile);
        Assert.Equal(2, exit);
        Assert.Contains("--lifetime", error);
    }
}
