namespace Exchange.Tests.Infrastructure;

/// <summary>A sample participant with its roles.</summary>
public sealed record Participant(string Id, params string[] Roles)
{
    /// <summary>Owns the datasets under test.</summary>
    public static readonly Participant Acme = new("acme", "provider");

    /// <summary>Another provider: must not see or touch acme's drafts.</summary>
    public static readonly Participant Globex = new("globex", "provider");

    /// <summary>A consumer.</summary>
    public static readonly Participant Initech = new("initech", "consumer");

    /// <summary>Another consumer.</summary>
    public static readonly Participant Umbrella = new("umbrella", "consumer");

    public static readonly Participant Auditor = new("audit-co", "auditor");

    public static readonly Participant Operator = new("ops", "operator");

    /// <summary>A Prometheus scraper: the metrics role only, no participant role.</summary>
    public static readonly Participant Metrics = new("prometheus", "metrics");

    public override string ToString() => Id;
}
