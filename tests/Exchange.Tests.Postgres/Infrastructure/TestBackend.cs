namespace Exchange.Tests.Infrastructure;

/// <summary>This assembly runs the shared contract tests on PostgreSQL (a fresh database per gateway on the test run's own cluster).</summary>
public static class TestBackend
{
    public const bool Postgres = true;
}
