using Exchange.Server.Catalog;
using Exchange.Server.Storage;
using Exchange.V1;
using Microsoft.Extensions.Options;

namespace Exchange.Server.Rights;

/// <summary>
/// How rights gate the market when <see cref="RightsOptions.Required"/> is on: a provider publishes
/// and approves only under a product-operation right in force (its own or licensed) that covers
/// what it offers. Checked inside the caller's unit of work, so the right cannot end between the
/// check and the effect.
/// </summary>
internal sealed class RightsGate(IOptions<Hosting.ExchangeOptions> options) : IRightsGate
{
    private bool Required => options.Value.Rights.Required;

    public string? PublishProblem(WriteUnit unit, DatasetId dataset, string provider) =>
        !Required || Operating(unit, dataset, provider).Count > 0
            ? null
            : $"publishing '{dataset.Name}' needs a product-operation right on it held by {provider} and in force " +
              "(Exchange:Rights:Required is on); register one with RightsService.RegisterRight, or hold one licensed to you.";

    public string? ApprovalProblem(WriteUnit unit, DatasetId dataset, string provider, IReadOnlyCollection<string> purposes, DateTimeOffset? expireTime)
    {
        if (!Required)
        {
            return null;
        }

        var rights = Operating(unit, dataset, provider);
        if (rights.Count == 0)
        {
            return $"granting access to '{dataset.Name}' needs a product-operation right on it held by {provider} and in force " +
                   "(Exchange:Rights:Required is on)";
        }

        if (rights.Any(r => RightScopes.CoversPurposes(r.Scope, purposes) && RightScopes.WithinValidity(r, RightScopes.Start(r), expireTime)))
        {
            return null;
        }

        return $"no product-operation right of {provider}'s on '{dataset.Name}' covers the purposes ({string.Join(", ", purposes)}) " +
               $"and term ({(expireTime is { } e ? $"until {e:yyyy-MM-dd'T'HH:mm:ss'Z'}" : "no end")}) granted: " +
               string.Join("; ", rights.Select(r => $"{r.Name} covers {(r.Scope.Purposes.Count == 0 ? "any purpose" : string.Join(", ", r.Scope.Purposes))} " +
                   $"until {(r.EndTime is null ? "no end" : r.EndTime.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture))}")) +
               "; narrow the terms to fit";
    }

    private static List<Right> Operating(WriteUnit unit, DatasetId dataset, string holder)
    {
        using var command = unit.Command("""
            SELECT record FROM rights
            WHERE dataset_id = @d AND holder = @h AND kind = @kind AND state = @active AND start_time <= @now
              AND (end_time IS NULL OR end_time > @now)
            """)
            .With("@d", dataset.Value).With("@h", holder).With("@kind", (int)RightKind.ProductOperation).With("@active", (int)RightState.Active)
            .With("@now", Timestamps.ToMicros(unit.Now));
        return RightsStore.Records(command);
    }
}
