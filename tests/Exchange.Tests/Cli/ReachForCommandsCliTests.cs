using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>
/// The commands a user reaches for: a dataset's revisions, transfers, a grant with its transfers, why a dataset was delisted.
/// One gateway for the class; each test's provider and consumer are fresh, so what they list is that test's only.
/// </summary>
public sealed class ReachForCommandsCliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private readonly Participant _acme = Participant.Acme.Fresh();
    private readonly Participant _initech = Participant.Initech.Fresh();

    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => Gateway.RunCliAsync(who, args);

    private async Task<(Dataset Dataset, Grant Grant)> SharedWithTwoRevisionsAndADownloadAsync()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme);
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(1000)), new() { MediaType = "application/octet-stream" });
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(2000)), new() { MediaType = "application/octet-stream" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        var target = Path.Combine(Gateway.DataDirectory, $"copy-{Guid.NewGuid():N}.bin");
        Directory.CreateDirectory(Gateway.DataDirectory);
        await initech.DownloadToFileAsync(grant.Name, target, new() { Purpose = "research" });
        return (dataset, grant);
    }

    [Fact]
    public async Task Datasets_revisions_lists_each_revision_with_its_size()
    {
        var (dataset, _) = await SharedWithTwoRevisionsAndADownloadAsync();

        var (exit, output, error) = await Run(_initech, "datasets", "revisions", dataset.Name);
        Assert.True(exit == 0, error);
        Assert.Contains($"{dataset.Name}/revisions/1", output);
        Assert.Contains($"{dataset.Name}/revisions/2", output);
        Assert.Contains("2,000", output);
        Assert.Contains("2 revisions", output);

        (exit, output, _) = await Run(_initech, "--json", "datasets", "revisions", dataset.Name);
        Assert.Equal(0, exit);
        Assert.Equal(2, JsonDocument.Parse(output).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Transfers_list_shows_grant_and_state_and_filters_by_them()
    {
        var (_, grant) = await SharedWithTwoRevisionsAndADownloadAsync();

        var (exit, output, error) = await Run(_initech, "transfers", "list", "--grant", grant.Name);
        Assert.True(exit == 0, error);
        Assert.True(output.Contains(grant.Name, StringComparison.Ordinal), output);
        Assert.Contains("COMPLETED", output);
        Assert.Contains("2,000 of 2,000", output);
        Assert.Contains("1 transfer", output);

        (exit, output, _) = await Run(_initech, "transfers", "list", "--state", "failed");
        Assert.Equal(0, exit);
        Assert.Contains("0 transfers", output);

        (exit, output, _) = await Run(_acme, "--json", "transfers", "list", "--state", "completed");
        Assert.Equal(0, exit);
        var transfer = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal(grant.Name, transfer.GetProperty("grant").GetString());

        (exit, output, error) = await Run(_initech, "transfers", "get", transfer.GetProperty("name").GetString()!);
        Assert.True(exit == 0, error);
        Assert.Contains("COMPLETED", output);
    }

    [Fact]
    public async Task Grants_get_shows_the_grant_with_its_transfers()
    {
        var (_, grant) = await SharedWithTwoRevisionsAndADownloadAsync();

        var (exit, output, error) = await Run(_initech, "grants", "get", grant.Name);
        Assert.True(exit == 0, error);
        Assert.Contains("ACTIVE", output);
        Assert.Contains("transfers/", output);
        Assert.Contains("COMPLETED", output);
        Assert.Contains("1 transfer", output);
    }

    [Fact]
    public async Task Datasets_get_shows_why_a_dataset_was_delisted_to_everyone_who_still_sees_it()
    {
        using var acme = Gateway.As(_acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        using var initech = Gateway.As(_initech);
        await acme.ApproveAsync(await initech.RequestAsync(dataset));

        var (exit, output, error) = await Run(_acme, "datasets", "delist", dataset.Name, "--reason", "superseded by v2");
        Assert.True(exit == 0, error);
        Assert.Contains("delisted because", output);
        Assert.Contains("superseded by v2", output);

        // Its provider, operators, and the consumer whose grant keeps it visible.
        foreach (var who in new[] { _acme, Participant.Operator, _initech })
        {
            (exit, output, error) = await Run(who, "datasets", "get", dataset.Name);
            Assert.True(exit == 0, error);
            Assert.Contains("DELISTED", output);
            Assert.Contains("superseded by v2", output);
        }

        // It is part of the Dataset resource.
        (exit, output, _) = await Run(_initech, "--json", "datasets", "get", dataset.Name);
        Assert.Equal(0, exit);
        Assert.Equal("superseded by v2", JsonDocument.Parse(output).RootElement.GetProperty("delistReason").GetString());
    }
}
