using System.Diagnostics.Metrics;
using Exchange.Server.Audit;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Observability;

/// <summary>
/// Someone asking for other participants' grants and transfers gets the answer a missing one
/// gets, and leaves no trace in the log (an outsider could grow it with random names); the
/// operator's metrics count the probes, by kind and by whether the object existed.
/// </summary>
public sealed class ObjectProbeMetricsTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Probes_of_hidden_and_missing_objects_answer_alike_are_counted_by_reason_and_not_logged()
    {
        using var acme = _factory.As(Participant.Acme);
        using var initech = _factory.As(Participant.Initech);
        using var umbrella = _factory.As(Participant.Umbrella);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        var (header, _, _) = await initech.DownloadAllAsync(grant.Name);

        var counts = new Dictionary<(string Kind, string Reason), long>();
        var meters = _factory.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "exchange.object.not_found")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var kind = (string)tags.ToArray().Single(t => t.Key == "kind").Value!;
            var reason = (string)tags.ToArray().Single(t => t.Key == "reason").Value!;
            lock (counts)
            {
                counts[(kind, reason)] = counts.GetValueOrDefault((kind, reason)) + value;
            }
        });
        listener.Start();
        var log = _factory.Services.GetRequiredService<AuditStore>();
        var before = log.Size;

        var hidden = await Rpc.FailsWith(StatusCode.NotFound, umbrella.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name }));
        var missing = await Rpc.FailsWith(StatusCode.NotFound, umbrella.Access.GetGrantAsync(new GetGrantRequest { Name = "grants/nosuchgrant" }));
        await Rpc.FailsWith(StatusCode.NotFound, umbrella.Transfers.GetTransferAsync(new GetTransferRequest { Name = header.Transfer }));
        await Rpc.FailsWith(StatusCode.NotFound, () => umbrella.DownloadAllAsync(grant.Name));

        Assert.Equal(hidden.Status.Detail.Replace(grant.Name, "X", StringComparison.Ordinal),
            missing.Status.Detail.Replace("grants/nosuchgrant", "X", StringComparison.Ordinal));
        Assert.Equal(before, log.Size);
        listener.RecordObservableInstruments();
        lock (counts)
        {
            Assert.Equal(2, counts.GetValueOrDefault(("grants", "hidden")));
            Assert.Equal(1, counts.GetValueOrDefault(("grants", "missing")));
            Assert.Equal(1, counts.GetValueOrDefault(("transfers", "hidden")));
        }
    }
}
