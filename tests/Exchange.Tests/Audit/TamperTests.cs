using Exchange.Server.Storage;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Audit;

/// <summary>
/// Someone with write access to the database edits, deletes, reorders or truncates audit rows;
/// <c>exchange audit verify</c> must fail and name the first index that was touched.
/// </summary>
public sealed class TamperTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();
    private readonly string _trusted = Path.Combine(Path.GetTempPath(), $"exchange-trusted-{Guid.NewGuid():N}.json");

    public void Dispose()
    {
        _factory.Dispose();
        File.Delete(_trusted);
    }

    private Task<(int Exit, string Out, string Err)> Verify(ExchangeFactory? factory = null, params string[] extra) =>
        (factory ?? _factory).RunCliAsync(Participant.Auditor, ["audit", "verify", "--trusted", _trusted, .. extra]);

    private static async Task FillAsync(ExchangeFactory factory, int datasets)
    {
        using var acme = factory.As(Participant.Acme);
        for (var i = 0; i < datasets; i++)
        {
            await CatalogFixture.CreateAsync(acme, DatasetState.Listed, title: $"Set {i}");
        }

        using var auditor = factory.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync((await auditor.AllEventsAsync()).Count);
    }

    private void Tamper(string sql, params (string Name, object Value)[] parameters)
    {
        var database = _factory.Services.GetRequiredService<Database>();
        using var connection = database.Engine.OpenWriter();
        using var command = connection.Command(sql);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        command.ExecuteNonQuery();
    }

    private byte[] Leaf(long index)
    {
        var database = _factory.Services.GetRequiredService<Database>();
        using var connection = database.Engine.OpenWriter();
        return (byte[])connection.Command($"SELECT leaf FROM audit_events WHERE idx = {index}").ExecuteScalar()!;
    }

    [Fact]
    public async Task An_untouched_log_verifies_and_a_later_run_checks_consistency_with_the_first()
    {
        await FillAsync(_factory, 4);
        var (exit, output, error) = await Verify();
        Assert.True(exit == 0, error);
        Assert.Contains("Verified 12 events", output);
        Assert.Contains("first time this log is seen", error);
        Assert.Contains("trusted on first use", error);

        await FillAsync(_factory, 2);
        (exit, output, error) = await Verify();
        Assert.True(exit == 0, error);
        Assert.Contains("Verified 18 events", output);
        Assert.Contains("consistent with the previously trusted checkpoint of size 12", output);
        Assert.DoesNotContain("first use", error);
    }

    [Fact]
    public async Task An_edited_event_is_named()
    {
        await FillAsync(_factory, 5);
        var record = AuditRecord.Parser.ParseFrom(Leaf(3));
        record.Actor = "mallory";
        Tamper("UPDATE audit_events SET leaf = @leaf, actor = 'mallory' WHERE idx = 3", ("@leaf", record.ToByteArray()));

        var (exit, _, error) = await Verify();
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED at index 3", error);
    }

    [Fact]
    public async Task A_deleted_event_is_named()
    {
        await FillAsync(_factory, 5);
        Tamper("DELETE FROM audit_events WHERE idx = 4");

        var (exit, _, error) = await Verify();
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED at index 4", error);
        Assert.Contains("missing", error);
    }

    [Fact]
    public async Task Reordered_events_are_named_at_the_first_moved_index()
    {
        await FillAsync(_factory, 5);
        var (second, sixth) = (Leaf(2), Leaf(6));
        Tamper("UPDATE audit_events SET leaf = @leaf WHERE idx = 2", ("@leaf", sixth));
        Tamper("UPDATE audit_events SET leaf = @leaf WHERE idx = 6", ("@leaf", second));

        var (exit, _, error) = await Verify();
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED at index 2", error);
    }

    [Fact]
    public async Task A_truncated_log_is_named_where_it_ends()
    {
        await FillAsync(_factory, 5);
        Tamper("DELETE FROM audit_events WHERE idx >= 7");

        var (exit, _, error) = await Verify();
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED at index 7", error);
        Assert.Contains("truncated", error);
    }

    [Fact]
    public async Task A_log_whose_history_differs_from_the_trusted_checkpoint_is_reported_as_a_fork()
    {
        await FillAsync(_factory, 3);
        Assert.Equal(0, (await Verify()).Exit);
        var logId = _factory.LogId();

        // Another exchange signed with the same key but with a different history, passed off as the
        // trusted log (its id in the signed checkpoint): a fork.
        using var impostor = new ExchangeFactory();
        await FillAsync(impostor, 5);
        var (exit, _, error) = await VerifyRelabelled(impostor, logId);
        Assert.Equal(1, exit);
        Assert.Contains("Fork", error);

        // And one that is shorter than what was already trusted: a rollback.
        using var shorter = new ExchangeFactory();
        await FillAsync(shorter, 1);
        (exit, _, error) = await VerifyRelabelled(shorter, logId);
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED: Rollback: the log shrank from the trusted size 9 to 3.", error);
    }

    /// <summary><c>audit verify</c> against <paramref name="factory"/>, whose checkpoints are re-signed (with the shared dev key) as of the log <paramref name="logId"/>.</summary>
    private Task<(int Exit, string Out, string Err)> VerifyRelabelled(ExchangeFactory factory, string logId) =>
        ExchangeFactory.RunCliAsync(
            new RewritingProxy(factory.Server.CreateHandler())
                .On<GetCheckpointResponse>("exchange.v1.AuditService/GetCheckpoint", r => CheckpointForgery.Relabel(r.Checkpoint, logId)),
            ["--server", factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Auditor.Id, Participant.Auditor.Roles),
                "audit", "verify", "--trusted", _trusted]);

    [Fact]
    public async Task A_pinned_key_that_did_not_sign_the_checkpoint_fails_verification()
    {
        await FillAsync(_factory, 1);
        var wrong = Exchange.Transparency.NoteVerifierKey.FromPublicKey("exchange.local/audit", new byte[32]).Encoded;

        var (exit, _, error) = await Verify(null, "--verifier-key", wrong);
        Assert.Equal(1, exit);
        Assert.Contains("not signed by the trusted key", error);
        Assert.False(File.Exists(_trusted));
    }
}
