namespace Exchange.Server.Rights;

/// <summary>The <c>Exchange:Rights</c> section.</summary>
internal sealed class RightsOptions
{
    /// <summary>
    /// When on, publishing a dataset needs the provider's active product-operation right on it, and
    /// an approval needs that right to cover the granted purposes and term. Off by default, so an
    /// exchange without a registry works as before.
    /// </summary>
    public bool Required { get; set; }

    /// <summary>How long a registration or change stays under public notice before it may be approved (10 days).</summary>
    public TimeSpan NoticePeriod { get; set; } = TimeSpan.FromDays(10);
}
