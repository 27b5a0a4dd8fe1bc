namespace Exchange.Server.Billing;

/// <summary>The <c>Exchange:Billing</c> section.</summary>
internal sealed class BillingOptions
{
    /// <summary>The exchange's fee, in hundredths of a percent of each charge, taken from what the provider earns (0: none).</summary>
    public int FeeBasisPoints { get; set; }

    /// <summary>How long after a month ends its period closes by itself, if no operator closed it before: the time late usage has to arrive.</summary>
    public TimeSpan CloseAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How often the gateway charges subscription periods that started and closes periods past their cut-off.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}
