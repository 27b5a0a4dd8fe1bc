using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Compute;

/// <summary>
/// Each consumer's share of a replica's queries: at most <see cref="ComputeOptions.QueriesPerConsumer"/>
/// running at once, so that one consumer cannot hold the engine's cores and tables while others wait.
/// </summary>
internal sealed class QuerySlots : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _running;
    private readonly int _perConsumer;

    public QuerySlots(IOptions<Hosting.ExchangeOptions> options)
    {
        _perConsumer = options.Value.Compute.QueriesPerConsumer;
        if (_perConsumer > 0)
        {
            _running = PartitionedRateLimiter.Create<string, string>(participant => RateLimitPartition.GetConcurrencyLimiter(participant,
                _ => new ConcurrencyLimiterOptions { PermitLimit = _perConsumer, QueueLimit = 0 }));
        }
    }

    /// <summary>
    /// A slot for one query of <paramref name="participant"/>, held until the lease is disposed; or,
    /// with <c>Refused</c> set, why there is none (the lease is then null).
    /// </summary>
    public (RateLimitLease? Lease, Refusal? Refused) Take(string participant)
    {
        if (_running is null)
        {
            return (null, null);
        }

        var lease = _running.AttemptAcquire(participant);
        if (lease.IsAcquired)
        {
            return (lease, null);
        }

        lease.Dispose();
        return (null, Refusal.Exhausted(string.Create(CultureInfo.InvariantCulture,
            $"{participant} already has {_perConsumer} queries running, as many as a consumer may at once; ask again when one has answered.")));
    }

    public void Dispose() => _running?.Dispose();
}
