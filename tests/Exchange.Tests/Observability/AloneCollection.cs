namespace Exchange.Tests.Observability;

/// <summary>
/// Tests that read the process's metrics run with no other test's gateway alive: every gateway
/// in the test process makes a meter of the same name, and each host's listener sees them all,
/// so a scrape could show another gateway's gauge (seen once: the log size of a smaller log).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Metrics, with no other gateway alive";
}
