using Exchange.Client;
using Exchange.V1;

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
