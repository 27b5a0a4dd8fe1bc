using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Exchange.Server.Observability;

/// <summary>
/// The gateway's own traces and metrics: calls by method and status, denials by reason, bytes
/// moved and transfer durations, audit appends and the log's size. Tags never carry a
/// participant, a token or a resource name: metrics are for operators, the audit log for facts.
/// </summary>
internal sealed class ExchangeTelemetry : IDisposable
{
    public const string Name = "Exchange";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _transferBytes;
    private readonly Histogram<double> _transferDuration;
    private readonly Counter<long> _probes;
    private readonly Counter<long> _auditAppends;

    /// <summary>Instruments on the host's meter factory; without one (benchmarks, tools), on a meter of their own.</summary>
    public ExchangeTelemetry(IMeterFactory? meters = null)
    {
        _meter = meters?.Create(Name) ?? new Meter(Name);
        _calls = _meter.CreateCounter<long>("exchange.rpc.calls", description: "gRPC calls handled, by method and status code");
        _callDuration = _meter.CreateHistogram<double>("exchange.rpc.duration", "s", "Time from a call's start to its status");
        _denials = _meter.CreateCounter<long>("exchange.denials", description: "Calls refused, by reason");
        _transferBytes = _meter.CreateCounter<long>("exchange.transfer.bytes", description: "Revision bytes received (upload) and sent (download)");
        _auditAppends = _meter.CreateCounter<long>("exchange.audit.appends", description: "Events durably appended to the audit log by this process");
        _transferDuration = _meter.CreateHistogram<double>("exchange.transfer.duration", "s", "Duration of uploads and downloads, by outcome");
        _probes = _meter.CreateCounter<long>("exchange.object.not_found",
            description: "NOT_FOUND answers for named objects, by kind and whether the object was missing or hidden from the caller");
    }


    /// <summary>Reports the log's size as this process knows it, whenever metrics are collected.</summary>
    public void ObserveLogSize(Func<long> size) =>
        _meter.CreateObservableGauge("exchange.audit.log_size", size, description: "Events in the audit log");

    /// <summary>Counts events durably appended to the log by this process.</summary>
    public void Appended(long events) => _auditAppends.Add(events);

    public void Call(string method, Grpc.Core.StatusCode status, TimeSpan duration)
    {
        var tags = new TagList { { "rpc.method", method }, { "rpc.grpc.status_code", status.ToString() } };
        _calls.Add(1, tags);
        _callDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>A refusal: <paramref name="reason"/> is a status (permission_denied, not_found, …), rate_limited or unauthenticated.</summary>
    public void Denied(string reason, string action = "") =>
        _denials.Add(1, new TagList { { "reason", reason }, { "action", action } });

    /// <summary>A caller asked for an object it was told does not exist; <paramref name="reason"/>: missing, hidden or missing_or_hidden.</summary>
    public void Probed(string kind, string reason) => _probes.Add(1, new TagList { { "kind", kind }, { "reason", reason } });

    public void Transferred(string direction, long bytes) => _transferBytes.Add(bytes, new TagList { { "direction", direction } });

    public void TransferEnded(string direction, string outcome, TimeSpan duration) =>
        _transferDuration.Record(duration.TotalSeconds, new TagList { { "direction", direction }, { "outcome", outcome } });


    public void Dispose() => _meter.Dispose();
}
