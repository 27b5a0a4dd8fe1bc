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

    /// <summary>
    /// A participant of the same kind no other test has seen (e.g. <c>acme-3f09c1d2e4b5</c>), for tests
    /// that share a gateway: what it lists and counts is its own test's doing only.
    /// </summary>
    public Participant Fresh() => this with { Id = $"{Id}-{Guid.NewGuid():N}"[..(Id.Length + 13)] };

    public override string ToString() => Id;
}
