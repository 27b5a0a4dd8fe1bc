using System.Text.Json;
using Exchange.Client.Audit;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>
/// Trust is kept per log (origin, key and the id the gateway generated for its log), not per
/// address: two gateways with the same dev key and origin but databases of their own are two logs,
/// each trusted on its own in one file; a rollback of either is still a rollback.
/// <c>exchange audit trust list|forget</c> show and drop them, and the earlier one-checkpoint file is still read.
/// </summary>
public sealed class TrustCliTests : IDisposable
{
    private readonly ExchangeFactory _first = new();
    private readonly ExchangeFactory _second = new();

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private string Trusted => Path.Combine(_first.DataDirectory, "trusted.json");

    private static async Task<Checkpoint> FillAsync(ExchangeFactory factory, int datasets)
    {
        using var acme = factory.As(Participant.Acme);
        for (var i = 0; i < datasets; i++)
        {
            await CatalogFixture.CreateAsync(acme, DatasetState.Listed, title: $"Set {i}");
        }

        using var auditor = factory.As(Participant.Auditor);
        return await auditor.CheckpointCoveringAsync((await auditor.AllEventsAsync()).Count);
    }

    private Task<(int Exit, string Out, string Err)> Verify(ExchangeFactory factory, HttpMessageHandler? handler = null) =>
        ExchangeFactory.RunCliAsync(handler ?? factory.Server.CreateHandler(),
            ["--server", factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Auditor.Id, Participant.Auditor.Roles),
                "audit", "verify", "--trusted", Trusted]);

    private Task<(int Exit, string Out, string Err)> Trust(params string[] args) =>
        ExchangeFactory.RunCliAsync(null, ["audit", "trust", .. args, "--trusted", Trusted]);

    [Fact]
    public async Task Two_logs_under_the_same_key_and_origin_are_verified_in_turn_each_against_its_own_trusted_checkpoint()
    {
        await FillAsync(_first, 10);
        var (exit, output, error) = await Verify(_first);
        Assert.True(exit == 0, error);
        Assert.Contains("Verified 30 events", output);
        Assert.Contains($"first time this log is seen: trusting exchange.local/audit (log id {_first.LogId()}) from size 30", error);

        // The README's replicas section: a new, shorter log under the same key, where a log of 30 was trusted.
        await FillAsync(_second, 5);
        (exit, output, error) = await Verify(_second);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("Rollback", error);
        Assert.Contains("Verified 15 events", output);
        Assert.Contains($"first time this log is seen: trusting exchange.local/audit (log id {_second.LogId()}) from size 15", error);
        Assert.Contains($"another log of this origin is trusted too: log id {_first.LogId()}, size 30", error);

        // Each goes on from its own checkpoint.
        await FillAsync(_first, 1);
        (exit, output, error) = await Verify(_first);
        Assert.True(exit == 0, error);
        Assert.Contains("consistent with the previously trusted checkpoint of size 30", output);
        Assert.Equal("", error);
        await FillAsync(_second, 1);
        (exit, output, error) = await Verify(_second);
        Assert.True(exit == 0, error);
        Assert.Contains("consistent with the previously trusted checkpoint of size 15", output);

        (exit, output, error) = await Trust("list");
        Assert.True(exit == 0, error);
        Assert.Contains(_first.LogId(), output);
        Assert.Contains(_second.LogId(), output);
        Assert.Contains("2 trusted logs", output);

        (exit, output, _) = await Trust("list", "--json");
        Assert.Equal(0, exit);
        using (var json = JsonDocument.Parse(output))
        {
            var sizes = json.RootElement.EnumerateArray().ToDictionary(l => l.GetProperty("logId").GetString()!, l => l.GetProperty("size").GetInt64());
            Assert.Equal(new Dictionary<string, long> { [_first.LogId()] = 33, [_second.LogId()] = 18 }, sizes);
        }
    }

    [Fact]
    public async Task An_older_checkpoint_of_the_same_log_replayed_later_is_a_rollback()
    {
        var old = await FillAsync(_first, 1);
        await FillAsync(_first, 2);
        Assert.Equal(0, (await Verify(_first)).Exit);

        // The gateway (or someone between) shows the log's own, genuinely signed, checkpoint of size 3.
        var replaying = new RewritingProxy(_first.Server.CreateHandler())
            .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => r.Checkpoint = old.Clone());
        var (exit, _, error) = await Verify(_first, replaying);

        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED: Rollback: the log shrank from the trusted size 9 to 3.", error);
        Assert.Contains($"this is the log trusted before (log id {_first.LogId()})", error);
        Assert.DoesNotContain("first time", error);
    }

    [Fact]
    public async Task Forget_drops_a_log_by_id_prefix_or_origin_and_the_next_verify_trusts_it_anew()
    {
        await FillAsync(_first, 1);
        await FillAsync(_second, 1);
        Assert.Equal(0, (await Verify(_first)).Exit);
        Assert.Equal(0, (await Verify(_second)).Exit);

        var (exit, output, error) = await Trust("forget", _first.LogId()[..8]);
        Assert.True(exit == 0, error);
        Assert.Contains($"forgot exchange.local/audit log id {_first.LogId()} (trusted size 3)", output);
        (_, output, _) = await Trust("list");
        Assert.DoesNotContain(_first.LogId(), output);
        Assert.Contains("1 trusted log in", output);

        (exit, _, error) = await Trust("forget", "0123456789abcdef");
        Assert.Equal(1, exit);
        Assert.Contains("no trusted log", error);
        Assert.Contains("exchange audit trust list", error);

        (exit, _, error) = await Verify(_first);
        Assert.True(exit == 0, error);
        Assert.Contains("first time this log is seen", error);

        (exit, output, _) = await Trust("forget", "exchange.local/audit");
        Assert.Equal(0, exit);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        (_, output, _) = await Trust("list");
        Assert.Contains("0 trusted logs", output);
    }

    /// <summary>The file an earlier version wrote: one checkpoint, signed before logs had ids.</summary>
    private async Task WriteOldFormatAsync(Checkpoint checkpoint)
    {
        using var key = CheckpointForgery.DevLogKey();
        var note = CheckpointForgery.Sign(new CheckpointNote(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash.ToByteArray()), key, checkpoint.Origin);
        await File.WriteAllTextAsync(Trusted, JsonSerializer.Serialize(new { VerifierKey = checkpoint.VerifierKey, Note = note }));
    }

    [Fact]
    public async Task An_old_format_file_is_read_its_log_continues_under_its_id_and_a_log_it_cannot_tell_apart_says_how_to_forget_it()
    {
        await WriteOldFormatAsync(await FillAsync(_first, 2));
        Assert.Equal(6, new TrustedCheckpointStore(Trusted).Logs().Single().Size);

        // The same log, now naming its id: consistent with the old checkpoint, so it is that log.
        await FillAsync(_first, 1);
        var (exit, output, error) = await Verify(_first);
        Assert.True(exit == 0, error);
        Assert.Contains("consistent with the previously trusted checkpoint of size 6", output);
        Assert.DoesNotContain("first time", error);
        var migrated = new TrustedCheckpointStore(Trusted).Logs().Single();
        Assert.Equal((_first.LogId(), 9L), (migrated.LogId, migrated.Size));
        Assert.Contains("\"logs\"", await File.ReadAllTextAsync(Trusted));

        // An old checkpoint cannot tell a new log of the same origin and key from a rolled-back one: the
        // failure says so, and how to forget it.
        await WriteOldFormatAsync(await FillAsync(_first, 1));
        await FillAsync(_second, 1);
        (exit, _, error) = await Verify(_second);
        Assert.Equal(1, exit);
        Assert.Contains("Rollback", error);
        Assert.Contains("stored before logs had ids", error);
        Assert.Contains("exchange audit trust forget exchange.local/audit", error);

        Assert.Equal(0, (await Trust("forget", "exchange.local/audit")).Exit);
        Assert.Equal(0, (await Verify(_second)).Exit);
    }

    [Fact]
    public async Task A_legacy_per_gateway_file_is_read_and_taken_in_at_the_next_save()
    {
        await FillAsync(_first, 1);
        var legacy = Path.Combine(_first.DataDirectory, "127.0.0.1_5001.json");
        using (var key = CheckpointForgery.DevLogKey())
        using (var auditor = _first.As(Participant.Auditor))
        {
            var checkpoint = (await auditor.Audit.GetCheckpointAsync(new GetCheckpointRequest())).Checkpoint;
            var note = CheckpointForgery.Sign(new CheckpointNote(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash.ToByteArray()), key, checkpoint.Origin);
            await File.WriteAllTextAsync(legacy, JsonSerializer.Serialize(new { VerifierKey = checkpoint.VerifierKey, Note = note }));
        }

        var store = new TrustedCheckpointStore(Trusted, legacy);
        Assert.Equal("", store.Logs().Single().LogId);

        var other = new CheckpointNote("example.org/log", 1, new byte[32], "00112233445566778899aabbccddeeff");
        var (otherKey, otherVerifier) = CheckpointForgery.FreshKey("example.org/log");
        using (otherKey)
        {
            store.Save(otherVerifier, CheckpointForgery.Sign(other, otherKey, "example.org/log"));
        }

        Assert.False(File.Exists(legacy));
        Assert.True(File.Exists(legacy + ".migrated"));
        Assert.Equal(["", "00112233445566778899aabbccddeeff"], new TrustedCheckpointStore(Trusted).Logs().Select(l => l.LogId).Order(StringComparer.Ordinal));
    }
}
