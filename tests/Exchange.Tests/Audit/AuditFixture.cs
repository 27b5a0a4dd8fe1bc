using Exchange.Client;
using Exchange.Server.Audit;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Audit;

internal static class AuditFixture
{
    /// <summary>Waits until a signed checkpoint covers at least <paramref name="size"/> events.</summary>
    public static async Task<Checkpoint> CheckpointCoveringAsync(this ExchangeClient client, long size)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var checkpoint = (await client.Audit.GetCheckpointAsync(new GetCheckpointRequest())).Checkpoint;
            if (checkpoint.Size >= size)
            {
                return checkpoint;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint covered {size} events in time (newest: {checkpoint.Size})");
            await Task.Delay(25);
        }
    }

    /// <summary>The verifier key of the in-process gateway's log, from its own signer rather than from anything it answers.</summary>
    public static NoteVerifierKey LogKey(this ExchangeFactory factory) => factory.Services.GetRequiredService<CheckpointSigner>().VerifierKey;

    /// <summary>The id the gateway generated for its log (each test gateway has a database, so a log, of its own).</summary>
    public static string LogId(this ExchangeFactory factory) => factory.Services.GetRequiredService<CheckpointSigner>().LogId;

    /// <summary>The verifier key the gateway publishes for its log (for a gateway in another process).</summary>
    public static async Task<NoteVerifierKey> PublishedLogKeyAsync(this ExchangeClient client, CancellationToken cancellationToken = default) =>
        NoteVerifierKey.Parse((await client.Audit.GetCheckpointAsync(new GetCheckpointRequest(), cancellationToken: cancellationToken)).Checkpoint.VerifierKey);

    public static async Task<List<AuditEvent>> AllEventsAsync(this ExchangeClient client, ListAuditEventsRequest? filter = null)
    {
        var request = filter?.Clone() ?? new ListAuditEventsRequest();
        var events = new List<AuditEvent>();
        do
        {
            var page = await client.Audit.ListAuditEventsAsync(request);
            events.AddRange(page.Events);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken != "");
        return events;
    }
}
