using System.Security.Cryptography;
using Exchange.Client.Audit;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using NSec.Cryptography;

namespace Exchange.Tests.Cli;

/// <summary>
/// <c>exchange download</c> checks the receipt against the trusted-checkpoint file it shares with
/// <c>exchange audit verify</c>, or against <c>--verifier-key</c>, never against the key the receipt names.
/// </summary>
public sealed class DownloadTrustCliTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    // Never the user's own ~/.exchange/trusted: every test gateway is another log under the same dev key.
    private string Trusted => Path.Combine(_factory.DataDirectory, "trusted.json");

    private string PathFor(string name) => Path.Combine(_factory.DataDirectory, name);

    private static async Task<Grant> SharedAsync(ExchangeFactory factory)
    {
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(5000)));
        return await acme.ApproveAsync(await initech.RequestAsync(dataset));
    }

    /// <summary>Runs <c>exchange download</c> as initech against <paramref name="factory"/>, through <paramref name="handler"/> when given.</summary>
    private Task<(int Exit, string Out, string Err)> Download(ExchangeFactory factory, string grant, string file, HttpMessageHandler? handler = null,
        params string[] extra) =>
        ExchangeFactory.RunCliAsync(handler ?? factory.Server.CreateHandler(),
        [
            "--server", factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles),
            "download", grant, "--purpose", "research", "-o", PathFor(file), "--trusted", Trusted, .. extra,
        ]);

    [Fact]
    public async Task First_use_trusts_the_gateways_key_then_each_download_moves_the_checkpoint_on_and_audit_verify_continues_from_it()
    {
        var grant = await SharedAsync(_factory);

        var (exit, output, error) = await Download(_factory, grant.Name, "first.bin");
        Assert.True(exit == 0, error);
        Assert.Contains("first time this log is seen", error);
        Assert.Contains($"log id {_factory.LogId()}", error);
        Assert.Contains("trusted on first use", error);
        Assert.Contains(_factory.LogKey().Encoded, error);
        Assert.Contains("receipt:", output);
        var firstSize = TrustedSize();

        (exit, output, error) = await Download(_factory, grant.Name, "second.bin");
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("first use", error);
        Assert.Contains($"consistent with the trusted checkpoint of size {firstSize}", output);
        var secondSize = TrustedSize();
        Assert.True(secondSize > firstSize);

        (exit, output, error) = await _factory.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted", Trusted);
        Assert.True(exit == 0, error);
        Assert.Contains($"consistent with the previously trusted checkpoint of size {secondSize}", output);
    }

    [Fact]
    public async Task A_checkpoint_re_signed_with_a_fresh_key_under_the_same_origin_is_refused_once_one_is_trusted()
    {
        var grant = await SharedAsync(_factory);
        Assert.Equal(0, (await Download(_factory, grant.Name, "first.bin")).Exit);

        using var fresh = Key.Create(SignatureAlgorithm.Ed25519);
        var proxy = new RewritingProxy(_factory.Server.CreateHandler())
            .On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
            {
                if (r.Trailer is { } trailer)
                {
                    CheckpointForgery.Resign(trailer.Receipt.Checkpoint, fresh);
                }
            })
            .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => CheckpointForgery.Resign(r.Checkpoint, fresh));
        var before = await File.ReadAllTextAsync(Trusted);

        var (exit, output, error) = await Download(_factory, grant.Name, "second.bin", proxy);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: The download's receipt does not verify (Signature: ", error);
        Assert.False(File.Exists(PathFor("second.bin")));
        Assert.Equal(before, await File.ReadAllTextAsync(Trusted));
    }

    [Fact]
    public async Task A_checkpoint_for_another_origin_is_refused_even_when_signed_by_the_pinned_key()
    {
        var grant = await SharedAsync(_factory);
        var pinned = _factory.LogKey();
        var proxy = new RewritingProxy(_factory.Server.CreateHandler()).On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
        {
            if (r.Trailer?.Receipt.Checkpoint is { } checkpoint)
            {
                CheckpointForgery.Reorigin(checkpoint, "elsewhere.example/audit", pinned.Name);
            }
        });

        var (exit, _, error) = await Download(_factory, grant.Name, "copy.bin", proxy, "--verifier-key", pinned.Encoded);

        Assert.Equal(1, exit);
        Assert.StartsWith("error: The download's receipt does not verify (Origin: ", error);
        Assert.Contains("elsewhere.example/audit", error);
        Assert.False(File.Exists(PathFor("copy.bin")));
        Assert.False(File.Exists(Trusted));
    }

    [Fact]
    public async Task A_gateway_that_shows_a_forked_log_is_refused()
    {
        Assert.Equal(0, (await Download(_factory, (await SharedAsync(_factory)).Name, "genuine.bin")).Exit);

        // Another gateway signing with the same key, with a history of its own, of the same length,
        // which it passes off as the trusted log (its id in the signed checkpoints it shows).
        using var fork = new ExchangeFactory();
        var logId = _factory.LogId();
        var relabelling = new RewritingProxy(fork.Server.CreateHandler())
            .On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
            {
                if (r.Trailer is { } trailer)
                {
                    CheckpointForgery.Relabel(trailer.Receipt.Checkpoint, logId);
                }
            })
            .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => CheckpointForgery.Relabel(r.Checkpoint, logId));
        var (exit, _, error) = await Download(fork, (await SharedAsync(fork)).Name, "forked.bin", relabelling);

        Assert.Equal(1, exit);
        Assert.StartsWith("error: The download's receipt does not verify (Consistency: Fork", error);
        Assert.False(File.Exists(PathFor("forked.bin")));
    }

    [Fact]
    public async Task A_new_log_behind_the_same_address_is_trusted_as_a_new_log_with_a_note_not_refused_as_a_fork()
    {
        Assert.Equal(0, (await Download(_factory, (await SharedAsync(_factory)).Name, "first.bin")).Exit);

        using var other = new ExchangeFactory();
        var (exit, _, error) = await Download(other, (await SharedAsync(other)).Name, "other.bin");

        Assert.True(exit == 0, error);
        Assert.Contains($"first time this log is seen: trusting exchange.local/audit (log id {other.LogId()})", error);
        Assert.Contains($"another log of this origin is trusted too: log id {_factory.LogId()}", error);
        Assert.Contains("exchange audit trust forget", error);
        Assert.True(File.Exists(PathFor("other.bin")));
    }

    private long TrustedSize()
    {
        var (key, note) = new TrustedCheckpointStore(Trusted).Load()!.Value;
        return CheckpointNote.ParseVerified(note, key).Size;
    }
}
