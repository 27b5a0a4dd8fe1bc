using System.Text;
using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Cli;

/// <summary>A view asked for, narrowed and received entirely from the CLI.</summary>
public sealed class ViewCliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    [Fact]
    public async Task A_consumer_asks_for_a_view_the_provider_narrows_it_and_the_download_is_exactly_that_part()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        Directory.CreateDirectory(Gateway.DataDirectory);
        var people = Path.Combine(Gateway.DataDirectory, $"people-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(people, "id,name,city,birth_date,income\n1,Ann,Bergen,1980-05-17,52000\n2,Bo,Oslo,1975-11-02,61000\n3,Cy,Bergen,1990-01-30,41000\n");
        var (exit, _, error) = await Gateway.RunCliAsync(Participant.Acme, "upload", dataset.Name, people);
        Assert.True(exit == 0, error);
        await acme.Catalog.PublishDatasetAsync(new V1.PublishDatasetRequest { Name = dataset.Name });

        (exit, var output, error) = await Gateway.RunCliAsync(Participant.Initech, "--json", "access", "request", dataset.Name, "--purpose", "research",
            "--columns", "id,city,birth_date,income", "--where", "city = Bergen", "--mask", "birth_date=year");
        Assert.True(exit == 0, error);
        var request = JsonDocument.Parse(output).RootElement.GetProperty("name").GetString()!;

        (exit, output, error) = await Gateway.RunCliAsync(Participant.Acme, "access", "approve", request,
            "--columns", "id,birth_date,income", "--where", "city = Bergen and income >= 50000", "--mask", "birth_date=year", "--mask", "income=bucket:10000");
        Assert.True(exit == 0, error);
        Assert.True(output.Contains("view: columns id,birth_date,income; where city = Bergen and income >= 50000; mask birth_date=year;", StringComparison.Ordinal), output);
        var grant = System.Text.RegularExpressions.Regex.Match(output, @"grants/[a-z0-9]+").Value;

        var file = Path.Combine(Gateway.DataDirectory, $"part-{Guid.NewGuid():N}.csv");
        (exit, output, error) = await Gateway.RunCliAsync(Participant.Initech, "download", grant, "--output", file, "--purpose", "research", "--format", "csv");
        Assert.True(exit == 0, error);
        Assert.Equal("id,birth_date,income\n1,1980-01-01,50000\n", await File.ReadAllTextAsync(file, Encoding.UTF8));
        Assert.Contains("view: sha256 ", output);

        // And the log those decisions and that receipt are in verifies for an auditor.
        (exit, output, error) = await Gateway.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted",
            Path.Combine(Gateway.DataDirectory, $"trusted-{Guid.NewGuid():N}.json"));
        Assert.True(exit == 0, error + output);

        // Widening is refused by the gateway, with its reason.
        (exit, output, error) = await Gateway.RunCliAsync(Participant.Initech, "--json", "access", "request", dataset.Name, "--purpose", "teaching",
            "--columns", "id,name");
        Assert.True(exit == 0, error);
        request = JsonDocument.Parse(output).RootElement.GetProperty("name").GetString()!;
        (exit, _, error) = await Gateway.RunCliAsync(Participant.Acme, "access", "approve", request, "--columns", "id,city");
        Assert.NotEqual(0, exit);
        Assert.Contains("'city' was not among id, name", error);
    }
}
