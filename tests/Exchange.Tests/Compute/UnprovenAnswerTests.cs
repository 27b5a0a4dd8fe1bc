using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Server.Storage;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Compute;

/// <summary>
/// A query answered, recorded and charged whose event the gateway cannot prove just then (the
/// database refuses to store a checkpoint): the answer still reaches the caller, without a receipt,
/// and is proven from the log once checkpoints are signed again. SQLite only: the refusal is a trigger.
/// </summary>
public sealed class UnprovenAnswerTests
{
    [Fact]
    public async Task An_answer_whose_receipt_cannot_be_made_is_given_without_one_and_proven_from_the_log_later()
    {
        using var factory = new ExchangeFactory();
        // The publisher's signing fails while the trigger is there, as it would with the database full.
        factory.ExpectErrors(e => e.Is("CheckpointPublisher", 31));
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        const string Sql = "SELECT city, COUNT(*) FROM data GROUP BY city";
        var earlier = await initech.RunQueryAsync(grant.Name, "SELECT COUNT(*) FROM data");

        var database = factory.Services.GetRequiredService<Database>();
        await database.WriteAsync(unit => unit.Command("""
            CREATE TRIGGER refuse_checkpoints BEFORE INSERT ON audit_checkpoints
            BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END
            """).ExecuteNonQuery(), CancellationToken.None);

        // A client of the protos alone gets its answer, and where it was logged.
        var answer = await initech.Compute.RunQueryAsync(new RunQueryRequest { Grant = grant.Name, Sql = Sql });
        Assert.Null(answer.Receipt);
        Assert.Equal(["Bergen|24", "Oslo|20"], ComputeFixture.Lines(answer));
        using var auditor = factory.As(Participant.Auditor);
        var logged = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "compute.query" })).Last();
        Assert.Equal(logged.Index, answer.EventIndex);
        Assert.Equal(Convert.ToHexStringLower(answer.ResultSha256.ToByteArray()),
            logged.Details.Single(d => d.Key == "result_sha256").Value);

        // The SDK, which returns only verified answers, says why it cannot, and hands over the answer it paid for.
        var refused = await Assert.ThrowsAsync<VerificationException>(() => initech.RunQueryAsync(grant.Name, Sql));
        Assert.Equal(VerificationCheck.Incomplete, refused.FailedCheck);
        Assert.Contains("no signed checkpoint includes it yet", refused.Message, StringComparison.Ordinal);
        var unproven = Assert.IsType<RunQueryResponse>(refused.UnprovenAnswer);
        Assert.Equal(["Bergen|24", "Oslo|20"], ComputeFixture.Lines(unproven));
        Assert.Null(await initech.ProveQueryAsync(unproven));

        // The CLI shows the answer marked unverified, and fails.
        var (exit, output, error) = await factory.RunCliAsync(Participant.Initech, "query", grant.Name, Sql,
            "--trusted", Path.Combine(factory.DataDirectory, "trusted.json"));
        Assert.Equal(1, exit);
        Assert.Contains("Bergen", output, StringComparison.Ordinal);
        Assert.Contains("not proven yet, so this answer is UNVERIFIED", output, StringComparison.Ordinal);
        Assert.Contains("no signed checkpoint includes it yet", error, StringComparison.Ordinal);

        await database.WriteAsync(unit => unit.Command("DROP TRIGGER refuse_checkpoints").ExecuteNonQuery(), CancellationToken.None);
        await auditor.CheckpointCoveringAsync(unproven.EventIndex + 1);
        foreach (var later in new[] { answer, unproven })
        {
            var receipt = await initech.ProveQueryAsync(later);
            Assert.NotNull(receipt);
            var verified = await initech.VerifyQueryReceiptAsync(receipt,
                new ExpectedQuery(grant.Name, later.Revision, later.Query, SHA256.HashData(later.Result.ToByteArray())));
            Assert.True(verified.Succeeded, verified.Message);
        }

        // A gateway that names another query's event as the answer's is caught: the event does not match the answer.
        var misnamed = unproven.Clone();
        misnamed.EventIndex = earlier.Receipt.Event.Index;
        var wrong = await initech.VerifyQueryReceiptAsync((await initech.ProveQueryAsync(misnamed))!,
            new ExpectedQuery(grant.Name, misnamed.Revision, misnamed.Query, SHA256.HashData(misnamed.Result.ToByteArray())));
        Assert.Equal(VerificationCheck.Event, wrong.FailedCheck);
    }
}
