using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Audit;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using NSec.Cryptography;

namespace Exchange.Tests.Client.Transfers;

/// <summary>
/// The SDK checks a download's receipt against what it trusts (a pinned key, or the key and
/// checkpoint it accepted before), not against whatever key the receipt names, and refuses a
/// checkpoint that is not consistent with the one it trusted: a forked log.
/// </summary>
public sealed class DownloadTrustTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();
    private readonly TemporaryDirectory _folder = new();

    public void Dispose()
    {
        _factory.Dispose();
        _folder.Dispose();
    }

    private string PathFor(string name) => Path.Combine(Directory.CreateDirectory(_folder.Path).FullName, name);

    /// <summary>On <paramref name="factory"/>: a listed dataset of acme with <paramref name="content"/> as its latest revision, and initech's grant on it.</summary>
    private static async Task<Grant> SharedAsync(ExchangeFactory factory, byte[] content)
    {
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        return await acme.ApproveAsync(await initech.RequestAsync(dataset));
    }

    /// <summary>initech's client of <paramref name="factory"/>, through <paramref name="handler"/> when given.</summary>
    private static ExchangeClient Initech(ExchangeFactory factory, HttpMessageHandler? handler = null, Action<ExchangeClientOptions>? configure = null)
    {
        var options = new ExchangeClientOptions
        {
            Address = factory.Server.BaseAddress,
            HttpHandler = handler ?? factory.Server.CreateHandler(),
            AllowInsecureTransport = true,
        };
        options.UseToken(ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles));
        configure?.Invoke(options);
        return new ExchangeClient(options);
    }

    [Fact]
    public async Task A_checkpoint_re_signed_with_a_fresh_key_under_the_same_origin_is_refused_once_a_checkpoint_is_trusted()
    {
        var content = RandomNumberGenerator.GetBytes(5000);
        var grant = await SharedAsync(_factory, content);
        using var fresh = Key.Create(SignatureAlgorithm.Ed25519);
        var proxy = new RewritingProxy(_factory.Server.CreateHandler()) { Active = false }
            .On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
            {
                if (r.Trailer is { } trailer)
                {
                    CheckpointForgery.Resign(trailer.Receipt.Checkpoint, fresh);
                }
            })
            .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => CheckpointForgery.Resign(r.Checkpoint, fresh));
        using var initech = Initech(_factory, proxy);

        var first = await initech.DownloadToFileAsync(grant.Name, PathFor("first.bin"), new() { Purpose = "research" });
        Assert.True(first.Verification.KeyTrustedOnFirstUse);
        Assert.Equal(_factory.LogKey().Encoded, first.Verification.Key!.Encoded);

        proxy.Active = true;
        var refused = await Assert.ThrowsAsync<VerificationException>(
            () => initech.DownloadToFileAsync(grant.Name, PathFor("second.bin"), new() { Purpose = "research" }));
        Assert.Equal(VerificationCheck.Signature, refused.FailedCheck);
        Assert.Contains("not signed by the trusted key", refused.Message);
        Assert.False(File.Exists(PathFor("second.bin")));
        Assert.False(File.Exists(PathFor("second.bin.partial")));
    }

    [Fact]
    public async Task A_checkpoint_whose_origin_is_not_the_pinned_key_name_is_refused()
    {
        var grant = await SharedAsync(_factory, RandomNumberGenerator.GetBytes(5000));
        var trusted = _factory.LogKey();
        // Signed by the very key the client pins, under its name, but for another log.
        var proxy = new RewritingProxy(_factory.Server.CreateHandler()).On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
        {
            if (r.Trailer?.Receipt.Checkpoint is { } checkpoint)
            {
                CheckpointForgery.Reorigin(checkpoint, "elsewhere.example/audit", trusted.Name);
            }
        });
        using var initech = Initech(_factory, proxy, options => options.AuditLogKey = trusted);

        var refused = await Assert.ThrowsAsync<VerificationException>(
            () => initech.DownloadToFileAsync(grant.Name, PathFor("copy.bin"), new() { Purpose = "research" }));

        Assert.Equal(VerificationCheck.Origin, refused.FailedCheck);
        Assert.Contains("elsewhere.example/audit", refused.Message);
        Assert.False(File.Exists(PathFor("copy.bin")));
    }

    [Fact]
    public async Task A_receipt_from_a_forked_log_of_the_same_or_a_larger_size_is_refused()
    {
        var content = RandomNumberGenerator.GetBytes(5000);
        var store = new TrustedCheckpointStore(PathFor("trusted.json"));
        void Trusting(ExchangeClientOptions options) => options.TrustedCheckpoints = store;

        var grant = await SharedAsync(_factory, content);
        using (var initech = Initech(_factory, configure: Trusting))
        {
            await initech.DownloadToFileAsync(grant.Name, PathFor("genuine.bin"), new() { Purpose = "research" });
        }

        var trusted = store.Load()!.Value;
        var trustedSize = CheckpointNote.ParseVerified(trusted.Note, trusted.Key).Size;

        // Gateways signing with the same key, each with its own history, passing it off as the trusted
        // log (its id in every checkpoint they show): one exactly as long as the one trusted, one longer.
        // The client is the same, the gateway shows it another history of the same log.
        var trustedLogId = _factory.LogId();
        using var sameSize = new ExchangeFactory();
        using var larger = new ExchangeFactory();
        using (var acme = larger.As(Participant.Acme))
        {
            await CatalogFixture.CreateAsync(acme);
        }

        foreach (var (fork, name) in new[] { (sameSize, "same size"), (larger, "larger") })
        {
            var forkGrant = await SharedAsync(fork, content);
            var relabelling = new RewritingProxy(fork.Server.CreateHandler())
                .On<DownloadResponse>("exchange.v1.TransferService/Download", r =>
                {
                    if (r.Trailer is { } trailer)
                    {
                        CheckpointForgery.Relabel(trailer.Receipt.Checkpoint, trustedLogId);
                    }
                })
                .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => CheckpointForgery.Relabel(r.Checkpoint, trustedLogId));
            using var initech = Initech(fork, relabelling, Trusting);
            var path = PathFor($"{name}.bin");

            var refused = await Assert.ThrowsAsync<VerificationException>(() => initech.DownloadToFileAsync(forkGrant.Name, path, new() { Purpose = "research" }));

            Assert.True(refused.FailedCheck == VerificationCheck.Consistency, $"{name}: {refused.Message}");
            Assert.Contains("Fork", refused.Message);
            var size = refused.Receipt!.Checkpoint!.Size;
            Assert.True(name == "same size" ? size == trustedSize : size > trustedSize, $"{name}: the forked checkpoint has size {size}, the trusted one {trustedSize}");
            Assert.False(File.Exists(path));
            Assert.Equal(trusted.Note, store.Load()!.Value.Note);
        }
    }

    [Fact]
    public async Task Another_log_under_the_same_key_and_origin_is_trusted_as_a_log_of_its_own_not_as_a_fork()
    {
        var content = RandomNumberGenerator.GetBytes(5000);
        var store = new TrustedCheckpointStore(PathFor("trusted.json"));
        void Trusting(ExchangeClientOptions options) => options.TrustedCheckpoints = store;
        var grant = await SharedAsync(_factory, content);
        using (var initech = Initech(_factory, configure: Trusting))
        {
            var first = await initech.DownloadToFileAsync(grant.Name, PathFor("first.bin"), new() { Purpose = "research" });
            Assert.True(first.Verification.NewLog);
        }

        // A new database behind the same address: the same dev key and origin, another log.
        using var other = new ExchangeFactory();
        var otherGrant = await SharedAsync(other, content);
        using (var initech = Initech(other, configure: Trusting))
        {
            var result = await initech.DownloadToFileAsync(otherGrant.Name, PathFor("other.bin"), new() { Purpose = "research" });
            Assert.True(result.Verification.NewLog);
            Assert.True(result.Verification.KeyTrustedOnFirstUse);
            Assert.Equal(other.LogId(), result.Checkpoint.LogId);
        }

        Assert.Equal(new[] { _factory.LogId(), other.LogId() }.Order(StringComparer.Ordinal), store.Logs().Select(l => l.LogId).Order(StringComparer.Ordinal));

        // And the first log is still the first log: a later download there is checked against its own checkpoint.
        using (var initech = Initech(_factory, configure: Trusting))
        {
            var again = await initech.DownloadToFileAsync(grant.Name, PathFor("again.bin"), new() { Purpose = "research" });
            Assert.False(again.Verification.NewLog);
            Assert.NotNull(again.Verification.PreviousTrustedSize);
        }
    }

    [Fact]
    public async Task Verified_receipts_move_the_trusted_checkpoint_forward_and_an_older_one_must_be_its_prefix()
    {
        var content = RandomNumberGenerator.GetBytes(5000);
        var grant = await SharedAsync(_factory, content);
        var store = new TrustedCheckpointStore(PathFor("trusted.json"));
        using var initech = Initech(_factory, configure: options =>
        {
            options.AuditLogKey = _factory.LogKey();
            options.TrustedCheckpoints = store;
        });

        var first = await initech.DownloadToFileAsync(grant.Name, PathFor("first.bin"), new() { Purpose = "research" });
        Assert.Equal(content, await File.ReadAllBytesAsync(first.Path));
        Assert.Equal((VerificationCheck.None, false, null), (first.Verification.FailedCheck, first.Verification.KeyTrustedOnFirstUse, first.Verification.PreviousTrustedSize));
        Assert.Equal(first.Receipt.Checkpoint.Note, store.Load()!.Value.Note);
        Assert.Equal(_factory.LogKey().Encoded, store.Load()!.Value.Key.Encoded);

        var second = await initech.DownloadToFileAsync(grant.Name, PathFor("second.bin"), new() { Purpose = "research" });
        Assert.Equal(first.Checkpoint.Size, second.Verification.PreviousTrustedSize);
        Assert.True(second.Checkpoint.Size > first.Checkpoint.Size);
        Assert.Equal(second.Receipt.Checkpoint.Note, store.Load()!.Value.Note);

        // The log goes on and an audit verify trusts a newer checkpoint from the same file; the
        // first transfer's receipt, fetched again, is then older than what is trusted.
        using (var acme = _factory.As(Participant.Acme))
        {
            await CatalogFixture.CreateAsync(acme);
        }

        using var auditor = _factory.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync(second.Checkpoint.Size + 1);
        var audit = await new AuditLogVerifier(auditor).VerifyAsync(null, store);
        Assert.True(audit.Succeeded, audit.Message);
        Assert.Equal(second.Checkpoint.Size, audit.PreviousTrustedSize);
        var newest = store.Load()!.Value.Note;

        var again = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = first.Transfer })).Transfer.Receipt;
        var verified = await initech.VerifyReceiptAsync(again,
            new ExpectedTransfer(first.Transfer, grant.Name, first.Revision, first.SizeBytes, first.Sha256));
        Assert.True(verified.Succeeded, verified.Message);
        Assert.Equal(audit.Checkpoint!.Size, verified.PreviousTrustedSize);
        Assert.Equal(newest, store.Load()!.Value.Note);
    }

    [Fact]
    public async Task Without_trust_on_first_use_nothing_verifies_until_a_key_is_pinned()
    {
        var grant = await SharedAsync(_factory, RandomNumberGenerator.GetBytes(5000));
        using var initech = Initech(_factory, configure: options => options.TrustOnFirstUse = false);

        var refused = await Assert.ThrowsAsync<VerificationException>(
            () => initech.DownloadToFileAsync(grant.Name, PathFor("copy.bin"), new() { Purpose = "research" }));
        Assert.Equal(VerificationCheck.Trust, refused.FailedCheck);
        Assert.False(File.Exists(PathFor("copy.bin")));

        using var pinned = Initech(_factory, configure: options =>
        {
            options.TrustOnFirstUse = false;
            options.AuditLogKey = _factory.LogKey();
        });
        var result = await pinned.DownloadToFileAsync(grant.Name, PathFor("copy.bin"), new() { Purpose = "research" });
        Assert.True(result.Verification.Succeeded);
    }
}
