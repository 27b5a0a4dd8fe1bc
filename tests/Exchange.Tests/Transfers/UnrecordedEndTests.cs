using System.Security.Cryptography;
using Exchange.Server.Storage;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Transfers;

/// <summary>
/// A download whose end the database refuses to record (full, away) must not leave its transfer
/// STARTED, where every resume is refused as still streaming: the gateway fails it, logged, once
/// the database takes writes again. SQLite only: the refusal is a trigger.
/// </summary>
public sealed class UnrecordedEndTests
{
    [Fact]
    public async Task A_download_whose_end_cannot_be_recorded_is_failed_once_the_database_takes_writes_and_then_resumes()
    {
        // The heartbeat runs every second.
        using var factory = ExchangeFactory.With(("Exchange:Transfers:OrphanTimeout", "00:00:03"));
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, "research", new Terms { Purposes = { "research" }, MaxTransfers = 1 }));

        var database = factory.Services.GetRequiredService<Database>();
        await database.WriteAsync(unit => unit.Command("""
            CREATE TRIGGER refuse_transfer_ends BEFORE UPDATE OF state ON transfers WHEN OLD.state = 1 AND NEW.state <> 1
            BEGIN SELECT RAISE(ABORT, 'the test refuses this write'); END
            """).ExecuteNonQuery(), CancellationToken.None);

        // Every byte went out, but neither the completion nor the failure could be recorded.
        await Rpc.FailsWith(StatusCode.Internal, () => initech.DownloadAllAsync(grant.Name));
        var transfer = (await initech.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant.Name })).Transfers.Single();
        Assert.Equal(TransferState.Started, transfer.State);

        await database.WriteAsync(unit => unit.Command("DROP TRIGGER refuse_transfer_ends").ExecuteNonQuery(), CancellationToken.None);
        var failed = await initech.WaitForTransferAsync(transfer.Name, TransferState.Failed);
        Assert.Equal(("the gateway could not record how the stream ended", content.Length), (failed.FailureReason, (int)failed.BytesSent));
        using var auditor = factory.As(Participant.Auditor);
        var record = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "transfer.fail" })).Single();
        Assert.Equal((transfer.Name, "exchange:gateway", AuditOutcome.Failed), (record.Resource, record.Actor, record.Outcome));

        // Resumed where it ended, under the same transfer: it completes with a receipt and uses no other transfer.
        var (_, rest, trailer) = await initech.DownloadAllAsync(grant.Name, offset: content.Length, transfer: transfer.Name);
        Assert.Empty(rest);
        Assert.NotNull(trailer.Receipt);
        Assert.Equal(TransferState.Completed, (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer.Name })).Transfer.State);
        Assert.Equal(1, (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);
    }
}
