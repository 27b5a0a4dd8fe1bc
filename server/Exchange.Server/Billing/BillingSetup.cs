namespace Exchange.Server.Billing;

internal static class BillingSetup
{
    /// <summary>Metering (Access, Transfers and Compute charge through <see cref="Access.IMeter"/>), statements, periods and settlements.</summary>
    public static IServiceCollection AddExchangeBilling(this IServiceCollection services)
    {
        services.AddSingleton<Meter>();
        services.AddSingleton<Access.IMeter>(provider => provider.GetRequiredService<Meter>());
        services.AddSingleton<BillingStore>();
        services.AddSingleton<BillingSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<BillingSweeper>());
        return services;
    }

    /// <summary>What cannot work in the Billing section.</summary>
    public static IEnumerable<string> Problems(BillingOptions options)
    {
        if (options.FeeBasisPoints is < 0 or > 10_000)
        {
            yield return $"Exchange:Billing:FeeBasisPoints must be 0 to 10000 (hundredths of a percent), not {options.FeeBasisPoints}.";
        }

        if (options.CloseAfter < TimeSpan.Zero)
        {
            yield return $"Exchange:Billing:CloseAfter may not be negative ({options.CloseAfter}).";
        }

        if (options.SweepInterval <= TimeSpan.Zero)
        {
            yield return $"Exchange:Billing:SweepInterval must be positive ({options.SweepInterval}).";
        }
    }
}
