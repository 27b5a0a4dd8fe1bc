using System.Security.Cryptography;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary><c>exchange upload</c> and <c>exchange download</c> against an in-process gateway.</summary>
public sealed class TransferCliTests : IDisposable
{
    private readonly ExchangeFactory _factory = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", "65536"));

    // Never the user's own ~/.exchange/trusted: every test gateway is a different log under the same dev key.
    private string Trusted => Path.Combine(_factory.DataDirectory, "trusted.json");

    public void Dispose() => _factory.Dispose();

    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => _factory.RunCliAsync(who, args);

    [Fact]
    public async Task Upload_then_download_and_a_second_run_resumes_an_interrupted_download()
    {
        var content = RandomNumberGenerator.GetBytes(12 * 65536);
        var source = Path.Combine(_factory.DataDirectory, "source.bin");
        Directory.CreateDirectory(_factory.DataDirectory);
        await File.WriteAllBytesAsync(source, content);
        using var acme = _factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);

        var (exit, output, error) = await Run(Participant.Acme, "upload", dataset.Name, source, "--media-type", "application/x-test");
        Assert.True(exit == 0, error);
        Assert.Contains($"{dataset.Name}/revisions/1", output);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(content)), output);

        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        using var initech = _factory.As(Participant.Initech);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

        var target = Path.Combine(_factory.DataDirectory, "copy.bin");
        using (var cancel = new CancellationTokenSource())
        {
            var stopHalfWay = new CancelWhen(p => p.Bytes >= 6 * 65536, cancel);
            await Assert.ThrowsAnyAsync<Exception>(() => initech.DownloadToFileAsync(grant.Name, target, new() { Purpose = "research", Progress = stopHalfWay }, cancel.Token));
        }

        (exit, output, error) = await Run(Participant.Initech, "download", grant.Name, "--purpose", "research", "-o", target, "--trusted", Trusted);
        Assert.True(exit == 0, error);
        Assert.Contains("(resumed)", output);
        Assert.Contains("verified", output);
        Assert.Contains("receipt:", output);
        Assert.Equal(content, await File.ReadAllBytesAsync(target));

        (exit, _, error) = await Run(Participant.Initech, "download", grant.Name, "--purpose", "marketing", "-o", target + ".2", "--trusted", Trusted);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: PermissionDenied:", error);
        Assert.False(File.Exists(target + ".2"));
    }
}
