using System.Security.Cryptography;
using Exchange.Tests.Access;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Crash;

/// <summary>
/// The real gateway killed (SIGKILL) in the middle of a download: on the next start the transfer
/// it was streaming is failed with a reason and resumes to completion, instead of staying
/// STARTED and holding its counted transfer forever.
/// </summary>
[Trait("Category", "Slow")]
public sealed class OrphanedTransferTests
{
    [Fact]
    public async Task A_download_cut_by_a_killed_gateway_is_failed_on_restart_and_resumes()
    {
        var data = Path.Combine(Path.GetTempPath(), "exchange-orphans", Guid.NewGuid().ToString("N"));
        var gateway = new GatewayProcess(data, _ => { }, "--Exchange:Transfers:ChunkSize=65536");
        try
        {
            await gateway.StartAsync();
            using var acme = gateway.Client(Participant.Acme);
            var content = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
            var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = "cut", Classification = Classification.Internal },
            })).Dataset.Name;
            await acme.UploadAsync(dataset, new MemoryStream(content));
            await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset });
            using var initech = gateway.Client(Participant.Initech);
            var request = (await initech.Access.RequestAccessAsync(new RequestAccessRequest
            {
                Dataset = dataset,
                Purpose = "research",
                RequestedTerms = new Terms { Purposes = { "research" }, MaxTransfers = 1 },
            })).AccessRequest;
            var grant = await acme.ApproveAsync(request);

            string transfer;
            using (var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" }))
            {
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                transfer = call.ResponseStream.Current.Header.Transfer;
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                await gateway.KillAsync();
            }

            await gateway.StartAsync();
            using var after = gateway.Client(Participant.Initech);
            var orphan = (await after.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
            Assert.Equal((TransferState.Failed, "the gateway serving it stopped"), (orphan.State, orphan.FailureReason));

            // The grant's only transfer is not lost: it resumes, from what the gateway recorded, to a verified end.
            var from = Math.Max(0, orphan.BytesSent - Exchange.Server.Transfers.TransferStore.ResumeSlack);
            var (header, rest, trailer) = await after.DownloadAllAsync(grant.Name, offset: from, transfer: transfer);
            Assert.Equal(content.AsSpan((int)from).ToArray(), rest);
            Assert.Equal("transfer.complete", trailer.Receipt.Event.Action);
            Assert.Equal(transfer, header.Transfer);
        }
        finally
        {
            await gateway.DisposeAsync();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
